import { Controller, HttpCode, NotFoundException, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import type { RawBodyRequest } from '../../http';
import { type WebhookOutcome, WebhookPipeline } from '../webhook-pipeline';
import { GenericChannel } from './generic-channel';

@Controller('webhooks/generic')
export class GenericWebhookController {
  constructor(
    private readonly channel: GenericChannel,
    private readonly pipeline: WebhookPipeline,
  ) {}

  @Post(':channel')
  @HttpCode(200)
  receive(@Req() req: Request & RawBodyRequest): Promise<WebhookOutcome> {
    if (!this.channel.enabled) {
      throw new NotFoundException('the generic channel is not enabled (GENERIC_WEBHOOK_SECRET)');
    }
    return this.pipeline.handle(this.channel, req);
  }
}
