import { Injectable, NotFoundException, type PipeTransform } from '@nestjs/common';
import { QUEUES, type QueueName } from '../relay';

/** A `:queue` path parameter: one of the relay's queues, or 404. */
@Injectable()
export class QueueNamePipe implements PipeTransform<string, QueueName> {
  transform(name: string): QueueName {
    if (!(QUEUES as readonly string[]).includes(name)) {
      throw new NotFoundException(`no queue ${name}`);
    }
    return name as QueueName;
  }
}
