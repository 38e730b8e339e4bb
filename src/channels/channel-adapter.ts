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

/** A message for the customer, as the outbound relay hands it to the customer's channel. */
export interface OutboundMessage {
  channel: string;
  /** Stable across retries (the stream item id and part): lets the receiver deduplicate. */
  id: string;
  customerAddress: string;
  businessAddress: string;
  text?: string;
  attachments: { url: string; contentType: string; name?: string }[];
}

/** A send the provider refused; `retryable` tells a passing refusal (429, 5xx) from a final one. */
export class ChannelSendError extends Error {
  constructor(
    readonly retryable: boolean,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(reason);
    this.name = 'ChannelSendError';
  }
}

/** What a channel can carry, for the outbound relay to shape messages by. */
export interface ChannelCapabilities {
  /** Longest text of one message, in characters; longer text goes as ordered parts. */
  maxTextLength: number;
  /** False: markdown is reduced to plain text (SMS, WhatsApp). */
  markdown: boolean;
  /** False: files are sent as a text with a link. */
  attachments: boolean;
}

/** One messaging channel: checks its webhooks, turns them into inbound messages, sends outbound. */
export interface ChannelAdapter {
  readonly capabilities: ChannelCapabilities;
  /** False when the request is not signed by the provider (answered with 401). */
  verify(request: WebhookRequest): boolean;
  /** Throws InvalidWebhookError when the body is not a valid webhook of this channel. */
  parse(request: WebhookRequest, receivedAt: number): InboundMessage[];
  /** Throws ChannelSendError when the provider refuses the message. */
  send(message: OutboundMessage): Promise<void>;
}
