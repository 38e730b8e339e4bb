import type { IncomingHttpHeaders } from 'node:http';
import type { InboundMessage } from '../relay';

/** What a webhook handler knows of the request, with the bytes exactly as they arrived. */
export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: unknown;
  params: Record<string, string>;
}

/** The body does not say what a message of this channel must say; answered with 400. */
export class InvalidWebhookError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidWebhookError';
  }
}

/** One messaging channel: checks its webhooks and turns them into inbound messages. */
export interface ChannelAdapter {
  /** False when the request is not signed by the provider (answered with 401). */
  verify(request: WebhookRequest): boolean;
  /** Throws InvalidWebhookError when the body is not a valid webhook of this channel. */
  parse(request: WebhookRequest, receivedAt: number): InboundMessage[];
}
