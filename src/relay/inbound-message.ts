import type { CustomerMessage } from '../conversations';

/** A customer's message as every channel hands it to the relay. */
export interface InboundMessage extends CustomerMessage {
  /** Epoch ms at which the webhook arrived. */
  receivedAt: number;
}
