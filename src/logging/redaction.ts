/**
 * What never reaches a log line. Secrets are replaced whole; phone numbers keep a few digits
 * so support can still tell conversations apart. Keys are matched at the top level and up to
 * four objects deep.
 */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'password',
  'secret',
  'appSecret',
  'app_secret',
  'token',
  'accessToken',
  'access_token',
  'authToken',
  'auth_token',
  'verifyToken',
  'verify_token',
  'apiToken',
  'participantToken',
  'ParticipantToken',
  'connectionToken',
  'ConnectionToken',
  'x-amz-bearer',
  'X-Amz-Bearer',
  'signature',
  'Signature',
  'x-twilio-signature',
  'x-hub-signature-256',
  'x-signature-256',
  'encryptionKey',
];

const PHONE_KEYS = [
  'from',
  'to',
  'From',
  'To',
  'phone',
  'phoneNumber',
  'msisdn',
  'wa_id',
  'customer',
  'customerAddress',
  'businessAddress',
  'address',
];

const MAX_DEPTH = 4;
const REDACTED = '[REDACTED]';

function atEveryDepth(keys: string[]): string[] {
  const quoted = keys.map((key) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`));
  const paths: string[] = [];
  for (let depth = 0; depth <= MAX_DEPTH; depth += 1) {
    const prefix = '*.'.repeat(depth);
    for (const key of quoted) paths.push(prefix ? `${prefix}${key}`.replace('.[', '[') : key);
  }
  return paths;
}

const phoneKeys = new Set(PHONE_KEYS);

/** Masks the middle of a phone number: `whatsapp:+447700900123` → `whatsapp:+44******123`. */
export function maskPhone(value: unknown): string {
  const text = String(value);
  const match = /^(.*?)(\+?\d[\d\s-]*\d)$/.exec(text);
  if (!match) return text.length <= 4 ? '****' : `${text.slice(0, 2)}****`;
  const [, scheme, number] = match;
  const digits = number.replace(/[\s-]/g, '');
  if (digits.length <= 6) return `${scheme}${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
  const head = digits.startsWith('+') ? 3 : 2;
  return `${scheme}${digits.slice(0, head)}${'*'.repeat(digits.length - head - 3)}${digits.slice(-3)}`;
}

const PHONE_IN_TEXT = /(?<![\w+])\+\d{7,15}\b/g;

/** Masks E.164 numbers that slipped into free text such as a log message. */
export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_IN_TEXT, (number) => maskPhone(number));
}

export const redaction = {
  paths: [...atEveryDepth(SECRET_KEYS), ...atEveryDepth(PHONE_KEYS)],
  censor: (value: unknown, path: string[]): unknown => {
    if (value === undefined || value === null) return value;
    return phoneKeys.has(path[path.length - 1]) ? maskPhone(value) : REDACTED;
  },
};

const SECRET_QUERY_PARAM = /token|secret|signature|password|key|auth/i;

/** A URL for the log: query parameters that look like secrets are replaced, phone numbers masked. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const [name, value] of [...params.entries()]) {
    if (SECRET_QUERY_PARAM.test(name)) params.set(name, REDACTED);
    else if (phoneKeys.has(name)) params.set(name, maskPhone(value));
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}
