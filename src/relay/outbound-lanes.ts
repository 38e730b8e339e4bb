import { Injectable } from '@nestjs/common';
import { RedisConnections, RedisKeys } from '../redis';
import { ConversationLanes } from './conversation-lanes';
import type { OutboundItem } from './outbound-item';

/** Connect → customer lanes, ordered by the items' AbsoluteTime. */
@Injectable()
export class OutboundLanes extends ConversationLanes<OutboundItem> {
  constructor(connections: RedisConnections, keys: RedisKeys) {
    super(connections, keys, 'out');
  }
}
