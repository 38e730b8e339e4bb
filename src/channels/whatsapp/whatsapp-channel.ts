import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { z } from 'zod';
import { AppConfig } from '../../config';
import type { CustomerFile, FetchedFile } from '../../conversations';
import { equalInConstantTime } from '../../http/constant-time';
import { Metrics } from '../../ops/metrics';
import {
  type ChannelAdapter,
  type ChannelCapabilities,
  ChannelSendError,
  type OutboundMessage,
  type SendReceipt,
  type WebhookContent,
  type WebhookRequest,
} from '../channel-adapter';
import { downloadFile } from '../file-download';
import { sha256Signature, signatureMatches } from '../hmac-signature';
import { bearer, callGraph, type GraphError, readGraphError } from './graph-api';
import { MEDIA_ID } from './whatsapp-message-content';
import { sendPayload } from './whatsapp-send-payload';
import { PHONE_NUMBER_ID, parseWhatsAppWebhook } from './whatsapp-webhook-parser';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** Sends refused because the customer's last message is more than 24 hours old. */
const OUTSIDE_WINDOW = 131047;
/** Graph's throttling codes: app, account and pair rate limits, and throughput. */
const THROTTLING = new Set([4, 80007, 130429, 131056]);

const mediaInfo = z.object({ url: z.url({ protocol: /^https?$/ }) });
const sentMessage = z.object({
  messages: z.tuple([z.object({ id: z.string() })]).rest(z.unknown()),
});

/**
 * The WhatsApp Cloud API (Meta) channel, `meta:whatsapp`: webhooks at `/webhooks/whatsapp`
 * signed in `X-Hub-Signature-256`, sends and media through the Graph API. The business address
 * of a conversation is the phone number id the customer wrote to.
 */
@Injectable()
export class WhatsAppChannel implements ChannelAdapter {
  readonly capabilities: ChannelCapabilities = {
    maxTextLength: 4_096,
    markdown: false,
    attachments: true,
  };
  private readonly logger = new Logger(WhatsAppChannel.name);
  private readonly outsideWindow: Counter<'phone_number_id'>;

  constructor(
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    this.outsideWindow = metrics.counter(
      'whatsapp_outside_window_total',
      'WhatsApp sends refused because the customer last wrote more than 24 hours ago (error 131047)',
      ['phone_number_id'],
    );
  }

  get enabled(): boolean {
    return this.config.whatsapp !== undefined;
  }

  /** Meta's subscription check: the challenge to echo when the verify token matches. */
  verifySubscription(query: Record<string, unknown>): string | undefined {
    const verifyToken = this.config.whatsapp?.verifyToken;
    const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = query;
    if (!verifyToken || mode !== 'subscribe') return undefined;
    if (typeof token !== 'string' || typeof challenge !== 'string') return undefined;
    return equalInConstantTime(token, verifyToken) ? challenge : undefined;
  }

  verify(request: WebhookRequest): boolean {
    const appSecret = this.config.whatsapp?.appSecret;
    if (!appSecret) return false;
    return signatureMatches(
      request.headers[SIGNATURE_HEADER],
      sha256Signature(appSecret, request.rawBody),
    );
  }

  parse(request: WebhookRequest, receivedAt: number): WebhookContent {
    return parseWhatsAppWebhook(request.body, receivedAt, (reason) =>
      this.logger.warn({ reason }, 'left out an unreadable part of a WhatsApp webhook'),
    );
  }

  /** Looks the media id up in Graph, then fetches the file from the URL it gives. */
  async download(file: CustomerFile): Promise<FetchedFile> {
    const whatsapp = this.config.whatsapp;
    if (!whatsapp) return { refusal: 'the WhatsApp channel is not enabled' };
    if (!MEDIA_ID.test(file.source)) return { refusal: 'its WhatsApp media id is not valid' };
    const res = await callGraph(whatsapp, file.source);
    if (!res.ok) return mediaLookupRefusal(res);
    const info = mediaInfo.safeParse(await res.json().catch(() => undefined));
    if (!info.success) throw new Error('the WhatsApp media lookup gave no download URL');
    return downloadFile(info.data.url, { authorization: bearer(whatsapp.accessToken) });
  }

  async send(message: OutboundMessage): Promise<SendReceipt> {
    const whatsapp = this.config.whatsapp;
    if (!whatsapp) throw new ChannelSendError(false, 'the WhatsApp channel is not enabled');
    const phoneNumberId = message.businessAddress;
    if (!PHONE_NUMBER_ID.test(phoneNumberId)) {
      throw new ChannelSendError(false, 'the business address is not a WhatsApp phone number id');
    }
    const payload = sendPayload(message);
    let res: Response;
    try {
      res = await callGraph(whatsapp, `${phoneNumberId}/messages`, payload);
    } catch (error) {
      throw new ChannelSendError(true, `WhatsApp did not answer: ${(error as Error).message}`);
    }
    if (!res.ok) throw this.sendRefusal(res.status, await readGraphError(res), phoneNumberId);
    const sent = sentMessage.safeParse(await res.json().catch(() => undefined));
    // The message is out either way: a receipt without the id beats a duplicate on retry.
    return sent.success ? { providerMessageId: sent.data.messages[0].id } : {};
  }

  private sendRefusal(
    status: number,
    error: GraphError | undefined,
    phoneNumberId: string,
  ): ChannelSendError {
    if (error?.code === OUTSIDE_WINDOW) {
      this.outsideWindow.inc({ phone_number_id: phoneNumberId });
      return new ChannelSendError(
        false,
        `WhatsApp error ${OUTSIDE_WINDOW}: the customer last wrote more than 24 hours ago; ` +
          `outside the customer-service window WhatsApp takes only template messages (HTTP ${status})`,
        status,
      );
    }
    const retryable = status === 429 || status >= 500 || THROTTLING.has(error?.code ?? 0);
    const what = error ? `WhatsApp error ${error.code}: ${error.message}` : 'WhatsApp refused';
    return new ChannelSendError(retryable, `${what} (HTTP ${status})`, status);
  }
}

/** A passing failure of the media lookup throws so the relay retries; any other is final. */
async function mediaLookupRefusal(res: Response): Promise<FetchedFile> {
  if (res.status === 429 || res.status >= 500) {
    await res.body?.cancel();
    throw new Error(`the WhatsApp media lookup answered HTTP ${res.status}`);
  }
  const error = await readGraphError(res);
  const code = error ? `, error ${error.code}` : '';
  const why =
    res.status === 400 || res.status === 404
      ? 'WhatsApp has no such file, or no longer has it'
      : 'WhatsApp refused access to it';
  return { refusal: `${why} (HTTP ${res.status}${code})` };
}
