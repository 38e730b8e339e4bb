import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { AppConfig } from '../../config';
import { InvalidWebhookError, type WebhookRequest } from '../channel-adapter';

const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** A webhook's form parameters; a name Twilio repeats (MediaUrl) holds every value. */
export type TwilioParams = Record<string, string | string[]>;

/** Reads `application/x-www-form-urlencoded` bytes exactly as sent, repeated names included. */
export function formParams(rawBody: Buffer): TwilioParams {
  const values = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return Object.fromEntries(
    [...values].map(([name, all]) => [name, all.length === 1 ? all[0] : all]),
  );
}

/**
 * True when `X-Twilio-Signature` signs the public URL Twilio called and the parameters it
 * posted. The library's validator also tries the URL with and without an explicit port.
 */
export function isSignedByTwilio(config: AppConfig, request: WebhookRequest): boolean {
  const authToken = config.twilio?.authToken;
  const publicBaseUrl = config.http.publicBaseUrl;
  const signature = request.headers[TWILIO_SIGNATURE_HEADER];
  if (!authToken || !publicBaseUrl || typeof signature !== 'string') return false;
  return validateRequest(
    authToken,
    signature,
    publicBaseUrl + request.url,
    formParams(request.rawBody),
  );
}

/** The parameters of a webhook, refused unless it concerns the configured account. */
export function accountWebhookParams(config: AppConfig, request: WebhookRequest): TwilioParams {
  const params = formParams(request.rawBody);
  const accountSid = config.twilio?.accountSid;
  if (!accountSid || param(params, 'AccountSid') !== accountSid) {
    throw new InvalidWebhookError('AccountSid is not the configured Twilio account');
  }
  return params;
}

/** The first value of a parameter; an empty one counts as absent, as it does for Twilio. */
export function param(params: TwilioParams, name: string): string | undefined {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first ? first : undefined;
}

export function requiredParam(params: TwilioParams, name: string): string {
  const value = param(params, name);
  if (value === undefined) throw new InvalidWebhookError(`${name} is required`);
  return value;
}
