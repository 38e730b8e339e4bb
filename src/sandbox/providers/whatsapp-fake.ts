import express, { type NextFunction, type Request, type Response } from 'express';
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
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

export interface FakeWhatsAppOptions extends FakeServerOptions {
  /**
   * When given, Graph requests (sends, media look-ups and downloads) must carry
   * `Authorization: Bearer <accessToken>`.
   */
  accessToken?: string;
  /** When given, sends from any other phone number ID fail as Graph fails for unknown objects. */
  phoneNumberId?: string;
  /** The app secret that signs the webhooks posted to the bridge (X-Hub-Signature-256). */
  appSecret?: string;
  /**
   * The bridge's webhook: customers' messages and delivery statuses are posted there (statuses
   * only when `appSecret` is given too). Also settable with `setWebhookUrl`.
   */
  webhookUrl?: string;
  /** `entry[].id` of the webhooks, the WhatsApp Business Account ID. */
  businessAccountId?: string;
  /** `metadata.display_phone_number` of status webhooks. */
  displayPhoneNumber?: string;
}

const MEDIA_TYPES = ['image', 'document', 'audio', 'video', 'sticker'] as const;
export type WhatsAppMessageType = 'text' | (typeof MEDIA_TYPES)[number];

export interface WhatsAppMedia {
  link?: string;
  id?: string;
  caption?: string;
  filename?: string;
}

export interface CapturedWhatsAppMessage {
  /** The `wamid.…` returned to the sender. */
  id: string;
  phoneNumberId: string;
  /** The Graph version in the path (`v23.0`), or null when the path had none. */
  apiVersion: string | null;
  to: string;
  type: WhatsAppMessageType;
  /** `text.body` of a text message. */
  text: string | null;
  /** The `image`, `document`… object of a media message. */
  media: WhatsAppMedia | null;
  /** The JSON body as sent. */
  payload: Record<string, unknown>;
  accessToken: string | null;
  receivedAt: string;
}

export interface WhatsAppSendResponse {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id: string }[];
  messages: { id: string }[];
}

/** The `GET /<media ID>` answer: where to download a file and what it is. */
export interface WhatsAppMediaInfo {
  messaging_product: 'whatsapp';
  url: string;
  mime_type: string;
  /** Hex SHA-256 of the file. */
  sha256: string;
  file_size: number;
  id: string;
}

/** A file of an inbound message, as the webhook describes it. */
export interface WhatsAppInboundMedia {
  id: string;
  mime_type: string;
  /** Base64 SHA-256 of the file. */
  sha256?: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
  animated?: boolean;
}

type InboundMediaType = (typeof MEDIA_TYPES)[number];

/**
 * A customer's message as the webhook's `messages[]` carries it, less `from`, `id` and
 * `timestamp`. Types the union does not list (contacts, reaction, unsupported…) go as
 * `{ type, ...fields }`.
 */
export type WhatsAppInboundContent = { context?: { from: string; id: string } } & (
  | { type: 'text'; text: { body: string } }
  | { [K in InboundMediaType]: { type: K } & { [P in K]: WhatsAppInboundMedia } }[InboundMediaType]
  | {
      type: 'interactive';
      interactive:
        | { type: 'button_reply'; button_reply: { id: string; title: string } }
        | { type: 'list_reply'; list_reply: { id: string; title: string; description?: string } };
    }
  | { type: 'button'; button: { payload: string; text: string } }
  | {
      type: 'location';
      location: { latitude: number; longitude: number; name?: string; address?: string };
    }
  | ({ type: string } & Record<string, unknown>)
);

export interface WhatsAppCustomerMessage {
  /** The customer's wa_id: digits, no `+`. */
  from: string;
  /** The business phone number the customer wrote to. */
  phoneNumberId: string;
  displayPhoneNumber?: string;
  /** `contacts[].profile.name`; the profile is left out when absent. */
  profileName?: string;
  content: WhatsAppInboundContent;
  /** Generated (`wamid.…`) when absent. */
  id?: string;
}

export interface WhatsAppWebhookSigning {
  /** Sent as X-Hub-Signature-256 instead of the computed one; null sends none. */
  signature?: string | null;
}

/** A `statuses[]` entry of a status webhook. */
export interface WhatsAppStatus {
  id: string;
  status: 'sent' | 'delivered' | 'failed';
  timestamp: string;
  recipient_id: string;
  conversation?: { id: string; expiration_timestamp?: string; origin: { type: string } };
  pricing?: { billable: boolean; pricing_model: string; category: string; type: string };
  errors?: {
    code: number;
    title: string;
    message: string;
    error_data: { details: string };
    href: string;
  }[];
}

/** How the next accepted message is to fail to reach the customer (a `failed` status). */
export interface WhatsAppDeliveryFailure {
  /** 131026 (Message undeliverable) unless given. */
  code?: number;
  title?: string;
  details?: string;
}

/** A status webhook the fake posted to the bridge, with its answer. */
export interface WhatsAppStatusWebhook extends WebhookAttempt {
  wamid: string;
  status: WhatsAppStatus['status'];
  /** The JSON posted. */
  payload: WhatsAppWebhookPayload;
}

/** The envelope of every WhatsApp Business Account webhook. */
export interface WhatsAppWebhookPayload {
  object: 'whatsapp_business_account';
  entry: {
    id: string;
    changes: {
      value: { messaging_product: 'whatsapp' } & Record<string, unknown>;
      field: string;
    }[];
  }[];
}

/** What the bridge answered to the subscription handshake. */
export interface WebhookVerification {
  status: number;
  body: string;
  /** The hub.challenge sent. */
  challenge: string;
  /** 200 with the challenge echoed as the body. */
  verified: boolean;
}

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: 'whatsapp'; details: string };
    fbtrace_id: string;
  };
}

interface GraphError extends ProviderError {
  type?: string;
  subcode?: number;
  details?: string;
}

const GRAPH_ERRORS: Partial<Record<number, { message: string; details?: string }>> = {
  1: { message: 'An unknown error occurred' },
  100: { message: '(#100) Invalid parameter' },
  190: { message: 'Invalid OAuth access token - Cannot parse access token' },
  130429: {
    message: '(#130429) Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  131000: { message: '(#131000) Something went wrong', details: 'Something went wrong.' },
  131016: {
    message: '(#131016) Service unavailable',
    details: 'A service is temporarily unavailable.',
  },
  131026: { message: '(#131026) Message undeliverable', details: 'Unable to deliver message.' },
  131047: {
    message: '(#131047) Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131056: {
    message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details: 'Too many messages sent from this phone number to the same phone number.',
  },
};

const ERROR_CODE_FOR_STATUS: Partial<Record<number, number>> = {
  400: 100,
  401: 190,
  429: 130429,
  500: 131000,
  503: 131016,
};

const MAX_TEXT_CHARACTERS = 4096;

const DEFAULT_BUSINESS_ACCOUNT_ID = '102290129340398';
const DEFAULT_DISPLAY_PHONE_NUMBER = '15550783881';
const GRAPH_VERSION = /^v\d+\.\d+$/;
const ERROR_CODES_HREF =
  'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

type StatusDetails = Omit<WhatsAppStatusWebhook, keyof WebhookAttempt>;
type WhatsAppCustomerSide = CustomerSide<StatusDetails, Required<WhatsAppDeliveryFailure>>;

/** Where and how the fake posts its webhooks; the URL can change after start. */
class MetaWebhooks {
  constructor(
    public url: string | undefined,
    private readonly appSecret: string | undefined,
    readonly businessAccountId: string,
  ) {}

  /** Statuses are posted only to a known URL, signed. */
  get ready(): boolean {
    return this.url !== undefined && this.appSecret !== undefined;
  }

  /** `payload` as JSON (a string goes verbatim), signed over its exact bytes. */
  signed(payload: unknown, { signature }: WhatsAppWebhookSigning = {}): SignedWebhook {
    if (this.url === undefined) throw new Error('FakeWhatsApp: no webhook URL is set');
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    let header = signature;
    if (header === undefined) {
      if (this.appSecret === undefined) {
        throw new Error('FakeWhatsApp: an app secret is needed to sign webhooks');
      }
      header = metaWebhookSignature(this.appSecret, body);
    }
    return {
      url: this.url,
      body,
      headers: {
        'Content-Type': 'application/json',
        ...(header !== null && { 'X-Hub-Signature-256': header }),
      },
    };
  }

  envelope(value: Record<string, unknown>): WhatsAppWebhookPayload {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: this.businessAccountId,
          changes: [{ value: { messaging_product: 'whatsapp', ...value }, field: 'messages' }],
        },
      ],
    };
  }
}

/** `X-Hub-Signature-256` as Meta computes it: the hex HMAC-SHA256 of the body with the app secret. */
export function metaWebhookSignature(appSecret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/**
 * A fake of the WhatsApp Cloud API: the send endpoint, `POST /[v23.0/]<phone number ID>/messages`
 * (the version segment is optional because the bridge's base URL may already contain it), and
 * media, `GET /[v23.0/]<media ID>`. It also plays the customer: posts their messages to the
 * bridge's webhook, hosts their files, and posts the delivery statuses of messages sent to them.
 */
export class FakeWhatsApp extends MessagingFake<
  CapturedWhatsAppMessage,
  StatusDetails,
  Required<WhatsAppDeliveryFailure>
> {
  private constructor(
    server: FakeServer<CapturedWhatsAppMessage>,
    customer: WhatsAppCustomerSide,
    private readonly webhooks: MetaWebhooks,
    private readonly options: FakeWhatsAppOptions,
  ) {
    super(server, customer);
  }

  static async start(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
    const customer: WhatsAppCustomerSide = new CustomerSide('FakeWhatsApp', 'status webhook');
    const webhooks = new MetaWebhooks(
      options.webhookUrl,
      options.appSecret,
      options.businessAccountId ?? DEFAULT_BUSINESS_ACCOUNT_ID,
    );
    const server = await startFakeServer<CapturedWhatsAppMessage>(
      'FakeWhatsApp',
      options,
      (app, context) => {
        app.post(
          '{/:version}/:phoneNumberId/messages',
          express.json(),
          context.faults.inject(sendGraphError),
          (req: Request<Record<string, string>>, res) =>
            sendMessage(req, res, options, context, { customer, webhooks }),
        );
        app.get('/_media/:mediaId', (req: Request<{ mediaId: string }>, res) =>
          downloadMedia(req, res, options, customer.media),
        );
        app.get('{/:version}/:mediaId', (req: Request<Record<string, string>>, res, next) =>
          lookUpMedia(req, res, next, options, customer.media),
        );
      },
    );
    return new FakeWhatsApp(server, customer, webhooks, options);
  }

  setWebhookUrl(url: string): void {
    this.webhooks.url = url;
  }

  /**
   * Serves `content` as a customer's file and returns its media ID, for an inbound message's
   * `image.id` (or `document.id`…). `GET /<media ID>` then gives its download URL.
   */
  hostMedia(content: Buffer, mimeType: string): string {
    const id = String(randomInt(10 ** 14, 2 ** 48));
    this.customer.media.add(id, content, mimeType, randomBytes(16).toString('hex'));
    return id;
  }

  /** Posts a customer's message to the webhook URL, wrapped and signed as Meta sends it. */
  async sendCustomerMessage(
    message: WhatsAppCustomerMessage,
  ): Promise<{ wamid: string; response: globalThis.Response }> {
    const wamid = message.id ?? newWamid();
    const payload = this.webhooks.envelope({
      metadata: {
        display_phone_number:
          message.displayPhoneNumber ??
          this.options.displayPhoneNumber ??
          DEFAULT_DISPLAY_PHONE_NUMBER,
        phone_number_id: message.phoneNumberId,
      },
      contacts: [
        {
          ...(message.profileName !== undefined && { profile: { name: message.profileName } }),
          wa_id: message.from,
        },
      ],
      messages: [{ from: message.from, id: wamid, timestamp: unixSeconds(), ...message.content }],
    });
    const response = await this.postSignedWebhook(payload);
    return { wamid, response };
  }

  /**
   * POSTs `payload` to the webhook URL as JSON (a string is sent verbatim), signed with the app
   * secret unless told otherwise.
   */
  async postSignedWebhook(
    payload: unknown,
    signing: WhatsAppWebhookSigning = {},
  ): Promise<globalThis.Response> {
    return postWebhook(this.webhooks.signed(payload, signing));
  }

  /** Meta's subscription handshake: `GET <webhook URL>?hub.mode=subscribe&…`. */
  async verifyWebhook(verifyToken: string): Promise<WebhookVerification> {
    if (this.webhooks.url === undefined) throw new Error('FakeWhatsApp: no webhook URL is set');
    const challenge = String(randomInt(1e9, 2 ** 31 - 1));
    const url = new URL(this.webhooks.url);
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.challenge', challenge);
    url.searchParams.set('hub.verify_token', verifyToken);
    const response = await fetch(url);
    const body = await response.text();
    return {
      status: response.status,
      body,
      challenge,
      verified: response.status === 200 && body === challenge,
    };
  }

  /**
   * Makes the next accepted message fail to reach the customer: a `failed` status with this
   * error instead of `delivered`. Failures queued together apply one after another;
   * `clearFaults` drops them.
   */
  failNextDelivery({ code = 131026, title, details }: WhatsAppDeliveryFailure = {}): void {
    const known = GRAPH_ERRORS[code];
    const knownTitle = known?.message.replace(/^\(#\d+\) /, '');
    const fullTitle = title ?? knownTitle ?? 'Message failed to send';
    this.customer.failNextDelivery({
      code,
      title: fullTitle,
      details: details ?? known?.details ?? fullTitle,
    });
  }

  /** The status webhooks posted so far, with their answers, oldest first. */
  statusWebhooks(): WhatsAppStatusWebhook[] {
    return this.customer.statuses.attempts();
  }

  /** Resolves with all status webhooks once at least `count` have been answered (or failed). */
  waitForStatusWebhooks(count: number, timeoutMs = 5_000): Promise<WhatsAppStatusWebhook[]> {
    return this.customer.statuses.waitFor(count, timeoutMs);
  }

  clearStatusWebhooks(): void {
    this.customer.statuses.clear();
  }
}

function sendMessage(
  req: Request<Record<string, string>>,
  res: Response,
  options: FakeWhatsAppOptions,
  { capture }: FakeContext<CapturedWhatsAppMessage>,
  { customer, webhooks }: { customer: WhatsAppCustomerSide; webhooks: MetaWebhooks },
): void {
  const { phoneNumberId } = req.params;
  // The version segment is optional; Express leaves the parameter out when it is absent.
  const version = req.params.version as string | undefined;
  const accessToken = bearerToken(req);
  if (!authorized(options, accessToken)) {
    refuseToken(res);
    return;
  }
  if (options.phoneNumberId !== undefined && phoneNumberId !== options.phoneNumberId) {
    sendGraphError(res, unknownObject('post', phoneNumberId));
    return;
  }

  const payload = asObject(req.body);
  const request = readSendRequest(payload);
  if ('status' in request) {
    sendGraphError(res, request);
    return;
  }

  const id = newWamid();
  capture.record({
    id,
    phoneNumberId,
    apiVersion: version ?? null,
    ...request,
    payload,
    accessToken,
    receivedAt: new Date().toISOString(),
  });
  const recipient = request.to.replace(/\D/g, '');
  const failure = customer.takeDeliveryFailure();
  if (webhooks.ready) {
    const metadata = {
      display_phone_number: options.displayPhoneNumber ?? DEFAULT_DISPLAY_PHONE_NUMBER,
      phone_number_id: phoneNumberId,
    };
    res.once('finish', () => {
      for (const status of deliveryStatuses(id, recipient, phoneNumberId, failure)) {
        const webhook = webhooks.envelope({ metadata, statuses: [status] });
        customer.statuses.enqueue(webhooks.signed(webhook), {
          wamid: id,
          status: status.status,
          payload: webhook,
        });
      }
    });
  }
  const response: WhatsAppSendResponse = {
    messaging_product: 'whatsapp',
    contacts: [{ input: request.to, wa_id: recipient }],
    messages: [{ id }],
  };
  res.json(response);
}

/** `sent`, then `delivered` or the failure, as Meta reports a service message in its window. */
function deliveryStatuses(
  id: string,
  recipient: string,
  phoneNumberId: string,
  failure: Required<WhatsAppDeliveryFailure> | undefined,
): WhatsAppStatus[] {
  const timestamp = unixSeconds();
  const base = { id, timestamp, recipient_id: recipient };
  // One conversation per business number and customer, as long as its window lasts.
  const conversationId = createHash('sha256')
    .update(`${phoneNumberId}/${recipient}`)
    .digest('hex')
    .slice(0, 32);
  const conversation = { id: conversationId, origin: { type: 'service' } };
  const pricing = {
    billable: false,
    pricing_model: 'PMP',
    category: 'service',
    type: 'free_customer_service',
  };
  const expiration_timestamp = String(Number(timestamp) + 24 * 60 * 60);
  const sent: WhatsAppStatus = {
    ...base,
    status: 'sent',
    conversation: { ...conversation, expiration_timestamp },
    pricing,
  };
  if (failure === undefined) return [sent, { ...base, status: 'delivered', conversation, pricing }];
  const { code, title, details } = failure;
  const error = { code, title, message: title, error_data: { details }, href: ERROR_CODES_HREF };
  return [sent, { ...base, status: 'failed', errors: [error] }];
}

function lookUpMedia(
  req: Request<Record<string, string>>,
  res: Response,
  next: NextFunction,
  options: FakeWhatsAppOptions,
  store: MediaStore,
): void {
  const { mediaId } = req.params;
  const version = req.params.version as string | undefined;
  // Other GET paths of two segments (`/_fake/…`) are not Graph objects.
  if (!/^\d+$/.test(mediaId) || (version !== undefined && !GRAPH_VERSION.test(version))) {
    next();
    return;
  }
  if (!authorized(options, bearerToken(req))) {
    refuseToken(res);
    return;
  }
  const media = store.get(mediaId);
  if (media === undefined) {
    sendGraphError(res, unknownObject('get', mediaId));
    return;
  }
  const download = new URL(`/_media/${media.id}`, `${req.protocol}://${req.get('host')}`);
  download.searchParams.set('token', media.scope ?? '');
  const info: WhatsAppMediaInfo = {
    messaging_product: 'whatsapp',
    url: download.href,
    mime_type: media.contentType,
    sha256: media.sha256,
    file_size: media.content.length,
    id: media.id,
  };
  res.json(info);
}

function downloadMedia(
  req: Request<{ mediaId: string }>,
  res: Response,
  options: FakeWhatsAppOptions,
  store: MediaStore,
): void {
  const token = typeof req.query.token === 'string' ? req.query.token : undefined;
  store.serve(
    res,
    { id: req.params.mediaId, scope: token, authorized: authorized(options, bearerToken(req)) },
    (res, status) => {
      if (status === 401) refuseToken(res);
      else sendGraphError(res, { status: 404, code: 100, message: 'Media not found' });
    },
  );
}

function bearerToken(req: Request): string | null {
  return /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? null;
}

function authorized(options: FakeWhatsAppOptions, accessToken: string | null): boolean {
  return options.accessToken === undefined || accessToken === options.accessToken;
}

function refuseToken(res: Response): void {
  res.set('www-authenticate', 'OAuth "Facebook Platform" "invalid_token"');
  sendGraphError(res, { status: 401, code: 190 });
}

function unknownObject(method: 'get' | 'post', id: string): GraphError {
  return {
    status: 400,
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
  };
}

function newWamid(): string {
  return `wamid.${randomBytes(30).toString('base64')}`;
}

function unixSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

type SendRequest = Pick<CapturedWhatsAppMessage, 'to' | 'type' | 'text' | 'media'>;

function readSendRequest(payload: Record<string, unknown>): SendRequest | GraphError {
  const { messaging_product: product, to, type = 'text' } = payload;
  if (product === undefined) return requiredParameter('messaging_product');
  if (product !== 'whatsapp') return invalidParameter('messaging_product must be "whatsapp"');
  if (typeof to !== 'string' || to === '') return requiredParameter('to');

  if (type === 'text') {
    const { body } = asObject(payload.text);
    if (typeof body !== 'string' || body === '') return requiredParameter("text['body']");
    if ([...body].length > MAX_TEXT_CHARACTERS) {
      return {
        status: 400,
        code: 100,
        message: `(#100) Param text['body'] must be at most ${MAX_TEXT_CHARACTERS} characters long.`,
      };
    }
    return { to, type, text: body, media: null };
  }

  if (!isMediaType(type)) return invalidParameter(`unsupported message type ${String(type)}`);
  const media = asObject(payload[type]) as WhatsAppMedia;
  if (typeof media.link !== 'string' && typeof media.id !== 'string') {
    return invalidParameter(`${type} needs a link or an id`);
  }
  return { to, type, text: null, media };
}

function requiredParameter(name: string): GraphError {
  return { status: 400, code: 100, message: `(#100) The parameter ${name} is required.` };
}

function invalidParameter(details: string): GraphError {
  return { status: 400, code: 100, details };
}

function isMediaType(type: unknown): type is (typeof MEDIA_TYPES)[number] {
  return (MEDIA_TYPES as readonly unknown[]).includes(type);
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function sendGraphError(
  res: Response,
  { status, code, message, type = 'OAuthException', subcode, details }: GraphError,
): void {
  const errorCode = code ?? ERROR_CODE_FOR_STATUS[status] ?? 1;
  const known = GRAPH_ERRORS[errorCode];
  const explanation = details ?? known?.details;
  const body: GraphErrorBody = {
    error: {
      message: message ?? known?.message ?? `(#${errorCode}) Error`,
      type,
      code: errorCode,
      ...(subcode !== undefined && { error_subcode: subcode }),
      ...(explanation !== undefined && {
        error_data: { messaging_product: 'whatsapp', details: explanation },
      }),
      fbtrace_id: randomBytes(17).toString('base64url'),
    },
  };
  res.status(status).json(body);
}
