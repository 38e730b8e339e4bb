import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import {
  FakeProvider,
  startFakeServer,
  type FakeContext,
  type FakeServerOptions,
  type ProviderError,
} from './fake-provider';

export interface FakeWhatsAppOptions extends FakeServerOptions {
  /** When given, requests must carry `Authorization: Bearer <accessToken>`. */
  accessToken?: string;
  /** When given, sends from any other phone number ID fail as Graph fails for unknown objects. */
  phoneNumberId?: string;
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

/**
 * A fake of the WhatsApp Cloud API's send endpoint: `POST /[v23.0/]<phone number ID>/messages`.
 * The version segment is optional because the bridge's base URL may already contain it.
 */
export class FakeWhatsApp extends FakeProvider<CapturedWhatsAppMessage> {
  static async start(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
    const server = await startFakeServer<CapturedWhatsAppMessage>(
      'FakeWhatsApp',
      options,
      (app, context) => {
        app.post(
          '{/:version}/:phoneNumberId/messages',
          express.json(),
          context.faults.inject(sendGraphError),
          (req: Request<Record<string, string>>, res) => sendMessage(req, res, options, context),
        );
      },
    );
    return new FakeWhatsApp(server);
  }
}

function sendMessage(
  req: Request<Record<string, string>>,
  res: Response,
  options: FakeWhatsAppOptions,
  { capture }: FakeContext<CapturedWhatsAppMessage>,
): void {
  const { phoneNumberId } = req.params;
  // The version segment is optional; Express leaves the parameter out when it is absent.
  const version = req.params.version as string | undefined;
  const accessToken = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? null;
  if (options.accessToken !== undefined && accessToken !== options.accessToken) {
    res.set('www-authenticate', 'OAuth "Facebook Platform" "invalid_token"');
    sendGraphError(res, { status: 401, code: 190 });
    return;
  }
  if (options.phoneNumberId !== undefined && phoneNumberId !== options.phoneNumberId) {
    sendGraphError(res, {
      status: 400,
      code: 100,
      subcode: 33,
      type: 'GraphMethodException',
      message: `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    });
    return;
  }

  const payload = asObject(req.body);
  const request = readSendRequest(payload);
  if ('status' in request) {
    sendGraphError(res, request);
    return;
  }

  const id = `wamid.${randomBytes(30).toString('base64')}`;
  capture.record({
    id,
    phoneNumberId,
    apiVersion: version ?? null,
    ...request,
    payload,
    accessToken,
    receivedAt: new Date().toISOString(),
  });
  const response: WhatsAppSendResponse = {
    messaging_product: 'whatsapp',
    contacts: [{ input: request.to, wa_id: request.to.replace(/\D/g, '') }],
    messages: [{ id }],
  };
  res.json(response);
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
