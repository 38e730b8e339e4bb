import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import {
  startFakeServer,
  type FakeContext,
  type FakeServer,
  type FakeServerOptions,
  type ProviderError,
} from './fake-provider';
import type { MediaStore } from './media-store';
import { CustomerSide, MessagingFake } from './messaging-fake';
import { postWebhook, type SignedWebhook, type WebhookAttempt } from './webhook-outbox';

export interface FakeTwilioOptions extends FakeServerOptions {
  /** When given, only this account's Messages URL is served. */
  accountSid?: string;
  /**
   * When given (or `apiKey`), requests (sends, media downloads) must authenticate with HTTP Basic
   * AccountSid:AuthToken. It also signs the webhooks the fake posts; without it there are no
   * status callbacks.
   */
  authToken?: string;
  /** An API key accepted as HTTP Basic KeySid:Secret. */
  apiKey?: { sid: string; secret: string };
}

type FormParams = Record<string, string | string[]>;

export interface CapturedTwilioMessage {
  sid: string;
  accountSid: string;
  /** The HTTP Basic user name: the Account SID or an API key SID. */
  authUser: string | null;
  to: string;
  from: string | null;
  body: string;
  mediaUrls: string[];
  messagingServiceSid: string | null;
  statusCallback: string | null;
  /** The form parameters as sent; repeated ones (MediaUrl) are arrays. */
  params: FormParams;
  receivedAt: string;
}

/** The Message resource as the create call returns it. */
export interface TwilioMessageResource {
  sid: string;
  account_sid: string;
  messaging_service_sid: string | null;
  to: string;
  from: string | null;
  body: string;
  status: 'queued' | 'accepted';
  num_segments: string;
  num_media: string;
  direction: 'outbound-api';
  api_version: '2010-04-01';
  date_created: string;
  date_updated: string;
  date_sent: null;
  price: null;
  price_unit: null;
  error_code: null;
  error_message: null;
  uri: string;
  subresource_uris: { media: string; feedback: string };
}

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** A customer's message, as Twilio reports it to the incoming-message webhook. */
export interface TwilioCustomerMessage {
  /** `+15005550006`, or `whatsapp:+15005550006` for a WhatsApp sender. */
  from: string;
  to: string;
  body?: string;
  /** Files, e.g. URLs from {@link FakeTwilio.hostMedia}. */
  media?: { url: string; contentType: string }[];
  /** The WhatsApp profile name; only sent for WhatsApp senders. */
  profileName?: string;
  /** Generated when absent: `SM…`, or `MM…` with media. */
  messageSid?: string;
  /** Further parameters, added last (they may replace generated ones). */
  extra?: Record<string, string>;
}

export interface TwilioWebhookSigning {
  /** Signs with this token instead of the fake's `authToken`. */
  authToken?: string;
  /** Sent as X-Twilio-Signature instead of the computed one; null sends none. */
  signature?: string | null;
}

export type TwilioMessageStatus = 'sent' | 'delivered' | 'undelivered' | 'failed';

/** How the next accepted message is to fail to reach the customer. */
export interface TwilioDeliveryFailure {
  /** ErrorCode of the callback; 30003 (Unreachable destination handset) unless given. */
  errorCode?: number;
  /** `undelivered` (the default) comes after `sent`; `failed` comes alone. */
  status?: 'undelivered' | 'failed';
}

/** A status callback the fake posted to a message's StatusCallback URL, with its answer. */
export interface TwilioStatusCallback extends WebhookAttempt {
  messageSid: string;
  messageStatus: TwilioMessageStatus;
  errorCode: number | null;
  /** The form parameters posted. */
  params: Record<string, string>;
}

const ERROR_MESSAGES: Partial<Record<number, string>> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'Internal Server Error',
  20503: 'Service Unavailable',
  21211: "Invalid 'To' Phone Number",
  21408:
    "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  21602: 'Message body is required.',
  21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
  21604: "A 'To' phone number is required.",
  21610: 'Attempt to send to unsubscribed recipient',
  21617: 'The concatenated message body exceeds the 1600 character limit.',
};

const ERROR_CODE_FOR_STATUS: Partial<Record<number, number>> = {
  400: 21211,
  401: 20003,
  429: 20429,
  500: 20500,
  503: 20503,
};

const MAX_BODY_CHARACTERS = 1600;
const DEFAULT_ACCOUNT_SID = `AC${'0'.repeat(32)}`;
const API_VERSION = '2010-04-01';

type StatusDetails = Omit<TwilioStatusCallback, keyof WebhookAttempt>;
type TwilioCustomerSide = CustomerSide<StatusDetails, Required<TwilioDeliveryFailure>>;

interface MediaParams {
  accountSid: string;
  messageSid: string;
  mediaSid: string;
}

/**
 * A fake of Twilio's Programmable Messaging API, `POST /2010-04-01/Accounts/:sid/Messages.json`,
 * and of the customer's side: their messages to the bridge's webhook, their files, and the status
 * callbacks of the messages sent to them.
 */
export class FakeTwilio extends MessagingFake<
  CapturedTwilioMessage,
  StatusDetails,
  Required<TwilioDeliveryFailure>
> {
  private constructor(
    server: FakeServer<CapturedTwilioMessage>,
    customer: TwilioCustomerSide,
    private readonly options: FakeTwilioOptions,
  ) {
    super(server, customer);
  }

  static async start(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
    const customer: TwilioCustomerSide = new CustomerSide('FakeTwilio', 'status callback');
    const server = await startFakeServer<CapturedTwilioMessage>(
      'FakeTwilio',
      options,
      (app, context) => {
        app.post(
          `/${API_VERSION}/Accounts/:accountSid/Messages.json`,
          express.urlencoded({ extended: false }),
          context.faults.inject(sendTwilioError),
          (req: Request<{ accountSid: string }>, res) =>
            createMessage(req, res, options, context, customer),
        );
        app.get(
          `/${API_VERSION}/Accounts/:accountSid/Messages/:messageSid/Media/:mediaSid`,
          (req: Request<MediaParams>, res) => serveMedia(req, res, options, customer.media),
        );
      },
    );
    return new FakeTwilio(server, customer, options);
  }

  /** The account the fake's webhooks and media URLs name: `accountSid`, or a fixed one. */
  get accountSid(): string {
    return this.options.accountSid ?? DEFAULT_ACCOUNT_SID;
  }

  /**
   * Serves `content` as a customer's file and returns its URL, shaped as Twilio's
   * (`…/Accounts/AC…/Messages/MM…/Media/ME…`). Downloads need the account's credentials when
   * the fake has any, as with Twilio's HTTP Basic Authentication for media.
   */
  hostMedia(content: Buffer, contentType: string, messageSid = newSid('MM')): string {
    const mediaSid = newSid('ME');
    this.customer.media.add(mediaSid, content, contentType, `${this.accountSid}/${messageSid}`);
    return `${this.url}/${API_VERSION}/Accounts/${this.accountSid}/Messages/${messageSid}/Media/${mediaSid}`;
  }

  /**
   * Posts a customer's message to the bridge as Twilio's incoming-message webhook does: the form
   * parameters Twilio sends, signed with the auth token over `webhookUrl`.
   */
  async sendCustomerMessage(
    webhookUrl: string,
    message: TwilioCustomerMessage,
  ): Promise<{ messageSid: string; response: globalThis.Response }> {
    const media = message.media ?? [];
    const messageSid = message.messageSid ?? newSid(media.length > 0 ? 'MM' : 'SM');
    const body = message.body ?? '';
    const whatsapp = message.from.startsWith('whatsapp:');
    const params: Record<string, string> = {
      MessageSid: messageSid,
      SmsSid: messageSid,
      SmsMessageSid: messageSid,
      AccountSid: this.accountSid,
      From: message.from,
      To: message.to,
      Body: body,
      NumMedia: String(media.length),
      NumSegments: whatsapp ? '1' : String(countSegments(body)),
      SmsStatus: 'received',
      ApiVersion: API_VERSION,
    };
    media.forEach(({ url, contentType }, index) => {
      params[`MediaContentType${index}`] = contentType;
      params[`MediaUrl${index}`] = url;
    });
    if (whatsapp) {
      if (message.profileName !== undefined) params.ProfileName = message.profileName;
      params.WaId = message.from.replace(/\D/g, '');
      params.MessageType = whatsAppMessageType(media);
    }
    Object.assign(params, message.extra);
    const response = await this.postSignedWebhook(webhookUrl, params);
    return { messageSid, response };
  }

  /** POSTs `params` form-encoded to `url`, signed as Twilio signs its webhooks unless told. */
  async postSignedWebhook(
    url: string,
    params: Record<string, string>,
    { authToken = this.options.authToken, signature }: TwilioWebhookSigning = {},
  ): Promise<globalThis.Response> {
    return postWebhook(signedForm(url, params, { authToken, signature }));
  }

  /**
   * Makes the next accepted message fail to reach the customer: its status callbacks end in
   * `undelivered` (or `failed`) with the error code. Failures queued together apply one after
   * another; `clearFaults` drops them.
   */
  failNextDelivery({
    errorCode = 30003,
    status = 'undelivered',
  }: TwilioDeliveryFailure = {}): void {
    this.customer.failNextDelivery({ errorCode, status });
  }

  /** The status callbacks posted so far, with their answers, oldest first. */
  statusCallbacks(): TwilioStatusCallback[] {
    return this.customer.statuses.attempts();
  }

  /** Resolves with all status callbacks once at least `count` have been answered (or failed). */
  waitForStatusCallbacks(count: number, timeoutMs = 5_000): Promise<TwilioStatusCallback[]> {
    return this.customer.statuses.waitFor(count, timeoutMs);
  }

  clearStatusCallbacks(): void {
    this.customer.statuses.clear();
  }
}

function createMessage(
  req: Request<{ accountSid: string }>,
  res: Response,
  options: FakeTwilioOptions,
  { capture }: FakeContext<CapturedTwilioMessage>,
  customer: TwilioCustomerSide,
): void {
  const { accountSid } = req.params;
  const credentials = basicCredentials(req.get('authorization'));
  if (!authenticates(options, accountSid, credentials)) {
    res.set('www-authenticate', 'Basic realm="Twilio API"');
    sendTwilioError(res, { status: 401, code: 20003 });
    return;
  }

  const params = (req.body ?? {}) as FormParams;
  const invalidCode = invalidParameterCode(params);
  if (invalidCode !== undefined) {
    sendTwilioError(res, { status: 400, code: invalidCode });
    return;
  }

  const to = param(params, 'To') ?? '';
  const from = param(params, 'From');
  const messagingServiceSid = param(params, 'MessagingServiceSid');
  const body = param(params, 'Body') ?? '';
  const mediaUrls = [params.MediaUrl ?? []].flat();
  const sid = newSid('SM');
  const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}`;
  const created = new Date();
  const now = rfc2822(created);
  // A Messaging Service picks the sender later: Twilio answers `accepted` with 0 segments.
  const viaService = messagingServiceSid !== null;
  const resource: TwilioMessageResource = {
    sid,
    account_sid: accountSid,
    messaging_service_sid: messagingServiceSid,
    to,
    from,
    body,
    status: viaService ? 'accepted' : 'queued',
    num_segments: viaService ? '0' : String(countSegments(body)),
    num_media: String(mediaUrls.length),
    direction: 'outbound-api',
    api_version: API_VERSION,
    date_created: now,
    date_updated: now,
    date_sent: null,
    price: null,
    price_unit: null,
    error_code: null,
    error_message: null,
    uri: `${uri}.json`,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
  };
  capture.record({
    sid,
    accountSid,
    authUser: credentials?.user ?? null,
    to,
    from,
    body,
    mediaUrls,
    messagingServiceSid,
    statusCallback: param(params, 'StatusCallback'),
    params,
    receivedAt: created.toISOString(),
  });
  const failure = customer.takeDeliveryFailure();
  const statusCallback = param(params, 'StatusCallback');
  const authToken = options.authToken;
  if (statusCallback !== null && authToken !== undefined) {
    res.once('finish', () => {
      for (const status of deliveryStatuses(failure)) {
        const callback = statusCallbackParams(resource, status, failure?.errorCode ?? null);
        customer.statuses.enqueue(
          signedForm(statusCallback, callback.params, { authToken }),
          callback,
        );
      }
    });
  }
  res.status(201).json(resource);
}

function deliveryStatuses(
  failure: Required<TwilioDeliveryFailure> | undefined,
): TwilioMessageStatus[] {
  if (failure === undefined) return ['sent', 'delivered'];
  return failure.status === 'failed' ? ['failed'] : ['sent', 'undelivered'];
}

function statusCallbackParams(
  message: TwilioMessageResource,
  messageStatus: TwilioMessageStatus,
  failureCode: number | null,
): StatusDetails {
  const errorCode = messageStatus === 'sent' ? null : failureCode;
  const params: Record<string, string> = {
    MessageSid: message.sid,
    MessageStatus: messageStatus,
    SmsSid: message.sid,
    SmsStatus: messageStatus,
    AccountSid: message.account_sid,
    ...(message.messaging_service_sid !== null && {
      MessagingServiceSid: message.messaging_service_sid,
    }),
    ...(message.from !== null && { From: message.from }),
    To: message.to,
    ApiVersion: API_VERSION,
    ...(errorCode !== null && { ErrorCode: String(errorCode) }),
  };
  return { messageSid: message.sid, messageStatus, errorCode, params };
}

function serveMedia(
  req: Request<MediaParams>,
  res: Response,
  options: FakeTwilioOptions,
  media: MediaStore,
): void {
  const { accountSid, messageSid, mediaSid } = req.params;
  const authorized = authenticates(options, accountSid, basicCredentials(req.get('authorization')));
  media.serve(
    res,
    { id: mediaSid, scope: `${accountSid}/${messageSid}`, authorized },
    (res, status) => {
      if (status === 401) res.set('www-authenticate', 'Basic realm="Twilio API"');
      sendTwilioError(res, { status, code: status === 401 ? 20003 : 20404 });
    },
  );
}

/** The webhook Twilio would post: form-encoded, signed over the URL and the parameters. */
function signedForm(
  url: string,
  params: Record<string, string>,
  { authToken, signature }: TwilioWebhookSigning,
): SignedWebhook {
  let header = signature;
  if (header === undefined) {
    if (authToken === undefined) throw new Error('FakeTwilio: no auth token to sign webhooks with');
    header = getExpectedTwilioSignature(authToken, url, params);
  }
  return {
    url,
    body: new URLSearchParams(params).toString(),
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(header !== null && { 'X-Twilio-Signature': header }),
    },
  };
}

/** MessageType of a WhatsApp message: the kind of its first file, or text. */
function whatsAppMessageType(media: { contentType: string }[]): string {
  const kind = media[0]?.contentType.split('/')[0];
  if (kind === undefined) return 'text';
  return ['image', 'video', 'audio'].includes(kind) ? kind : 'document';
}

function newSid(prefix: 'SM' | 'MM' | 'ME'): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

function sendTwilioError(res: Response, { status, code, message }: ProviderError): void {
  // Twilio's 20xxx codes mirror HTTP statuses (20404, 20429, 20500…).
  const errorCode = code ?? ERROR_CODE_FOR_STATUS[status] ?? 20000 + status;
  const body: TwilioErrorBody = {
    code: errorCode,
    message: message ?? ERROR_MESSAGES[errorCode] ?? `HTTP ${status}`,
    more_info: `https://www.twilio.com/docs/errors/${errorCode}`,
    status,
  };
  res.status(status).json(body);
}

interface Credentials {
  user: string;
  password: string;
}

function basicCredentials(header: string | undefined): Credentials | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function authenticates(
  options: FakeTwilioOptions,
  accountSid: string,
  credentials: Credentials | undefined,
): boolean {
  if (options.accountSid !== undefined && accountSid !== options.accountSid) return false;
  if (options.authToken === undefined && options.apiKey === undefined) return true;
  if (credentials === undefined) return false;
  const { user, password } = credentials;
  if (user === accountSid && password === options.authToken) return true;
  return user === options.apiKey?.sid && password === options.apiKey.secret;
}

/** The first value of a form parameter; empty counts as absent, as it does for Twilio. */
function param(params: FormParams, name: string): string | null {
  const value = [params[name] ?? []].flat()[0];
  return value ? value : null;
}

function invalidParameterCode(params: FormParams): number | undefined {
  const body = param(params, 'Body') ?? '';
  if (!param(params, 'To')) return 21604;
  if (!param(params, 'From') && !param(params, 'MessagingServiceSid')) return 21603;
  if (!body && !param(params, 'MediaUrl') && !param(params, 'ContentSid')) return 21602;
  if ([...body].length > MAX_BODY_CHARACTERS) return 21617;
  return undefined;
}

/** RFC 2822 in GMT, as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

/**
 * SMS segments: GSM-7 bodies take 160 septets (153 per part when split, extension characters
 * take two); anything else is sent as UCS-2, 70 UTF-16 units (67 per part).
 */
function countSegments(body: string): number {
  let septets = 0;
  for (const character of body) {
    if (GSM7_BASIC.includes(character)) septets += 1;
    else if (GSM7_EXTENSION.includes(character)) septets += 2;
    else return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}
