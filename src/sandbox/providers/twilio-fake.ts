import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import {
  FakeProvider,
  startFakeServer,
  type FakeContext,
  type FakeServerOptions,
  type ProviderError,
} from './fake-provider';

export interface FakeTwilioOptions extends FakeServerOptions {
  /** When given, only this account's Messages URL is served. */
  accountSid?: string;
  /** When given (or `apiKey`), requests must authenticate with HTTP Basic AccountSid:AuthToken. */
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

const ERROR_MESSAGES: Partial<Record<number, string>> = {
  20003: 'Authenticate',
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

/** A fake of Twilio's Programmable Messaging API: `POST /2010-04-01/Accounts/:sid/Messages.json`. */
export class FakeTwilio extends FakeProvider<CapturedTwilioMessage> {
  static async start(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
    const server = await startFakeServer<CapturedTwilioMessage>(
      'FakeTwilio',
      options,
      (app, context) => {
        app.post(
          '/2010-04-01/Accounts/:accountSid/Messages.json',
          express.urlencoded({ extended: false }),
          context.faults.inject(sendTwilioError),
          (req: Request<{ accountSid: string }>, res) => createMessage(req, res, options, context),
        );
      },
    );
    return new FakeTwilio(server);
  }
}

function createMessage(
  req: Request<{ accountSid: string }>,
  res: Response,
  options: FakeTwilioOptions,
  { capture }: FakeContext<CapturedTwilioMessage>,
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
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
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
    api_version: '2010-04-01',
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
  res.status(201).json(resource);
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
