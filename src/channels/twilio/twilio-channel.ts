import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AppConfig } from '../../config';
import type { CustomerFile, FetchedFile } from '../../conversations';
import type { InboundMessage } from '../../relay';
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
import { conversationKeyOf, twilioAddress } from './twilio-addresses';
import {
  accountWebhookParams,
  isSignedByTwilio,
  param,
  requiredParam,
  type TwilioParams,
} from './twilio-webhook-params';

type TwilioCredentials = NonNullable<AppConfig['twilio']>;

const SEND_TIMEOUT_MS = 15_000;
/** Twilio's own limit of media per message. */
const MAX_MEDIA = 10;
const TWILIO_API_ORIGIN = 'https://api.twilio.com';
const TWILIO_STATUS_WEBHOOK_PATH = '/webhooks/twilio/status';

const createdMessage = z.object({ sid: z.string() });
const twilioError = z.object({ code: z.number(), message: z.string() });

/**
 * SMS, MMS and WhatsApp through Twilio Programmable Messaging: `POST /webhooks/twilio` with the
 * form-encoded message, signed in `X-Twilio-Signature`; sends through the Messages API.
 */
@Injectable()
export class TwilioChannel implements ChannelAdapter {
  readonly capabilities: ChannelCapabilities = {
    maxTextLength: 1_600,
    markdown: false,
    attachments: true,
  };

  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.twilio !== undefined;
  }

  verify(request: WebhookRequest): boolean {
    return isSignedByTwilio(this.config, request);
  }

  parse(request: WebhookRequest, receivedAt: number): WebhookContent {
    const params = accountWebhookParams(this.config, request);
    const providerMessageId = requiredParam(params, 'MessageSid');
    const key = conversationKeyOf(requiredParam(params, 'From'), requiredParam(params, 'To'));
    const attachments = mediaOf(params);
    const message: InboundMessage = {
      ...key,
      providerMessageId,
      displayName: param(params, 'ProfileName'),
      text: textOf(params, attachments.length > 0),
      attachments,
      receivedAt,
    };
    return { messages: [message], statuses: [] };
  }

  /** Twilio's media URLs need the account's credentials; no other host ever sees them. */
  download(file: CustomerFile): Promise<FetchedFile> {
    const twilio = this.config.twilio;
    const authorized = twilio && isTwilioApiUrl(file.source, twilio.apiBaseUrl);
    return downloadFile(file.source, authorized ? { authorization: basicAuth(twilio) } : {});
  }

  async send(message: OutboundMessage): Promise<SendReceipt> {
    const twilio = this.config.twilio;
    if (!twilio) {
      throw new ChannelSendError(
        false,
        'the Twilio channel is not enabled (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)',
      );
    }
    let res: Response;
    try {
      res = await fetch(messagesUrl(twilio), {
        method: 'POST',
        headers: { authorization: basicAuth(twilio) },
        body: this.messageForm(message),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ChannelSendError(true, `Twilio did not answer: ${(error as Error).message}`);
    }
    const body = await jsonOf(res);
    if (res.ok) return { providerMessageId: createdMessage.safeParse(body).data?.sid };
    const retryable = res.status === 429 || res.status >= 500;
    throw new ChannelSendError(retryable, refusalReason(body, res.status), res.status);
  }

  private messageForm(message: OutboundMessage): URLSearchParams {
    const form = new URLSearchParams({
      To: twilioAddress(message.channel, message.customerAddress),
      From: twilioAddress(message.channel, message.businessAddress),
    });
    if (message.text) form.append('Body', message.text);
    for (const { url } of message.attachments) form.append('MediaUrl', url);
    const publicBaseUrl = this.config.http.publicBaseUrl;
    if (publicBaseUrl) form.append('StatusCallback', publicBaseUrl + TWILIO_STATUS_WEBHOOK_PATH);
    return form;
  }
}

function isTwilioApiUrl(url: string, apiBaseUrl: string): boolean {
  if (!URL.canParse(url)) return false;
  const { origin } = new URL(url);
  return origin === TWILIO_API_ORIGIN || origin === new URL(apiBaseUrl).origin;
}

function messagesUrl({ apiBaseUrl, accountSid }: TwilioCredentials): string {
  return `${apiBaseUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`;
}

function basicAuth({ accountSid, authToken }: TwilioCredentials): string {
  return `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
}

async function jsonOf(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

/** `Twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)`. */
function refusalReason(body: unknown, status: number): string {
  const error = twilioError.safeParse(body).data;
  return error
    ? `Twilio error ${error.code}: ${error.message} (HTTP ${status})`
    : `Twilio answered HTTP ${status}`;
}

/** `MediaUrl{N}` and `MediaContentType{N}` for each N below `NumMedia`. */
function mediaOf(params: TwilioParams): CustomerFile[] {
  const count = Math.min(Number.parseInt(param(params, 'NumMedia') ?? '0', 10) || 0, MAX_MEDIA);
  const files: CustomerFile[] = [];
  for (let index = 0; index < count; index += 1) {
    const source = param(params, `MediaUrl${index}`);
    if (!source || !/^https?:\/\//i.test(source)) continue;
    const contentType = param(params, `MediaContentType${index}`) ?? 'application/octet-stream';
    files.push({ source, contentType });
  }
  return files;
}

/**
 * The body and any shared location; a message with neither and no media (a kind the bridge does
 * not know) becomes a notice, so that the agent still learns the customer wrote.
 */
function textOf(params: TwilioParams, hasMedia: boolean): string | undefined {
  const body = param(params, 'Body');
  const parts = [body?.trim() ? body : undefined, locationOf(params)].filter(
    (part) => part !== undefined,
  );
  if (parts.length > 0) return parts.join('\n');
  if (hasMedia) return undefined;
  const type = param(params, 'MessageType') ?? 'unknown';
  return `The customer sent a message that cannot be shown here (type: ${type}).`;
}

/** A WhatsApp location (`Latitude`, `Longitude`, optional `Label` and `Address`) with a map link. */
function locationOf(params: TwilioParams): string | undefined {
  const latitude = coordinate(param(params, 'Latitude'), 90);
  const longitude = coordinate(param(params, 'Longitude'), 180);
  if (latitude === undefined || longitude === undefined) return undefined;
  const place = [param(params, 'Label'), param(params, 'Address')].filter(Boolean).join(', ');
  const map = `https://www.google.com/maps/search/?api=1&query=${latitude},${longitude}`;
  return `Shared a location${place ? `: ${place}` : ''}\n${map}`;
}

function coordinate(value: string | undefined, limit: number): number | undefined {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && Math.abs(number) <= limit
    ? number
    : undefined;
}
