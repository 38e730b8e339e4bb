import { Injectable } from '@nestjs/common';
import { RedisConnections, RedisKeys } from '../redis';
import { ConversationLanes } from './conversation-lanes';
import type { InboundMessage } from './inbound-message';

/** Customer → Connect lanes, in arrival order. */
@Injectable()
export class InboundLanes extends ConversationLanes<InboundMessage> {
  constructor(connections: RedisConnections, keys: RedisKeys) {
    super(connections, keys, 'in');
  }
}
