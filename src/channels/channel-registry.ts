import { Injectable } from '@nestjs/common';
import type { ChannelAdapter } from './channel-adapter';
import { GenericChannel } from './generic/generic-channel';

/** The adapter of a conversation's channel (`generic:<name>` → the generic channel). */
@Injectable()
export class ChannelRegistry {
  constructor(private readonly generic: GenericChannel) {}

  adapterFor(channel: string): ChannelAdapter {
    if (channel.startsWith('generic:') && this.generic.enabled) return this.generic;
    throw new Error(`no enabled channel for ${channel}`);
  }
}
