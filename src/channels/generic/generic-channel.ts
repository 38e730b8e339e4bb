import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AppConfig } from '../../config';
import type { CustomerFile, FetchedFile } from '../../conversations';
import {
  type ChannelAdapter,
  type ChannelCapabilities,
  ChannelSendError,
  InvalidWebhookError,
  type OutboundMessage,
  type SendReceipt,
  type WebhookContent,
  type WebhookRequest,
} from '../channel-adapter';
import { downloadFile } from '../file-download';
import { sha256Signature, signatureMatches } from '../hmac-signature';

const SEND_TIMEOUT_MS = 15_000;

export const SIGNATURE_HEADER = 'x-signature-256';
const CHANNEL_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

const webhookBody = z.object({
  messageId: z.string().min(1).max(256),
  from: z.string().min(1).max(256),
  to: z.string().min(1).max(256),
  text: z
    .string()
    .max(64 * 1024)
    .optional(),
  displayName: z.string().min(1).max(256).optional(),
  attachments: z
    .array(
      z.object({
        url: z.url({ protocol: /^https?$/ }),
        contentType: z.string().min(3).max(255),
        name: z.string().min(1).max(256).optional(),
      }),
    )
    .max(10)
    .optional(),
});

/** The generic channel's signature, in both directions. */
export const signGenericBody = sha256Signature;

/**
 * The generic HTTP channel for in-house apps: `POST /webhooks/generic/:channel` with a JSON
 * message signed in `X-Signature-256`.
 */
@Injectable()
export class GenericChannel implements ChannelAdapter {
  readonly capabilities: ChannelCapabilities = {
    maxTextLength: 4_096,
    markdown: false,
    attachments: true,
  };

  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.generic !== undefined;
  }

  verify(request: WebhookRequest): boolean {
    const secret = this.config.generic?.webhookSecret;
    if (!secret) return false;
    return signatureMatches(
      request.headers[SIGNATURE_HEADER],
      signGenericBody(secret, request.rawBody),
    );
  }

  parse(request: WebhookRequest, receivedAt: number): WebhookContent {
    const name = request.params.channel ?? '';
    if (!CHANNEL_NAME.test(name)) {
      throw new InvalidWebhookError('channel must be 1-32 lowercase letters, digits or "-"');
    }
    const parsed = webhookBody.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidWebhookError(`${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const body = parsed.data;
    if (!body.text?.trim() && !body.attachments?.length) {
      throw new InvalidWebhookError('a message needs text or at least one attachment');
    }
    const message = {
      channel: `generic:${name}`,
      providerMessageId: body.messageId,
      customerAddress: body.from,
      businessAddress: body.to,
      displayName: body.displayName,
      text: body.text,
      attachments: (body.attachments ?? []).map(({ url, ...file }) => ({ source: url, ...file })),
      receivedAt,
    };
    return { messages: [message], statuses: [] };
  }

  /** The app hands over public (or pre-signed) URLs. */
  download(file: CustomerFile): Promise<FetchedFile> {
    return downloadFile(file.source);
  }

  /** POSTs the message to GENERIC_CALLBACK_URL, signed like the webhooks. */
  async send(message: OutboundMessage): Promise<SendReceipt> {
    const generic = this.config.generic;
    if (!generic?.callbackUrl) {
      throw new ChannelSendError(false, 'GENERIC_CALLBACK_URL is not set');
    }
    const body = JSON.stringify({
      messageId: message.id,
      channel: message.channel.replace(/^generic:/, ''),
      from: message.businessAddress,
      to: message.customerAddress,
      ...(message.text !== undefined ? { text: message.text } : {}),
      attachments: message.attachments,
    });
    let res: Response;
    try {
      res = await fetch(generic.callbackUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signGenericBody(generic.webhookSecret, body),
        },
        body,
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ChannelSendError(true, `the callback did not answer: ${(error as Error).message}`);
    }
    await res.body?.cancel();
    if (res.ok) return { providerMessageId: message.id };
    const retryable = res.status === 429 || res.status >= 500;
    throw new ChannelSendError(retryable, `the callback answered HTTP ${res.status}`, res.status);
  }
}
