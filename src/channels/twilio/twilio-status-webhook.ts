import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config';
import type {
  DeliveryStatus,
  WebhookContent,
  WebhookRequest,
  WebhookSource,
} from '../channel-adapter';
import { conversationKeyOf } from './twilio-addresses';
import {
  accountWebhookParams,
  isSignedByTwilio,
  param,
  requiredParam,
  type TwilioParams,
} from './twilio-webhook-params';

const FAILED_STATUSES = new Set(['failed', 'undelivered']);

/** Twilio's titles of the codes that most often end a delivery. */
const ERROR_TITLES = new Map([
  ['21610', 'Attempt to send to unsubscribed recipient'],
  ['30003', 'Unreachable destination handset'],
  ['30004', 'Message blocked'],
  ['30005', 'Unknown destination handset'],
  ['30006', 'Landline or unreachable carrier'],
  ['30007', 'Message filtered'],
  ['30008', 'Unknown error'],
  ['63016', 'Outside messaging window. For WhatsApp, use a Message Template instead'],
]);

/**
 * `POST /webhooks/twilio/status`: the delivery statuses of the messages the bridge sent, which
 * Twilio posts to the `StatusCallback` of each.
 */
@Injectable()
export class TwilioStatusWebhook implements WebhookSource {
  constructor(private readonly config: AppConfig) {}

  verify(request: WebhookRequest): boolean {
    return isSignedByTwilio(this.config, request);
  }

  parse(request: WebhookRequest, _receivedAt: number): WebhookContent {
    const params = accountWebhookParams(this.config, request);
    const providerMessageId = requiredParam(params, 'MessageSid');
    const status = requiredParam(params, 'MessageStatus').toLowerCase();
    // The bridge sent the message: the customer is its recipient.
    const key = conversationKeyOf(requiredParam(params, 'To'), requiredParam(params, 'From'));
    const reason = FAILED_STATUSES.has(status) ? failureReason(params) : undefined;
    const delivery: DeliveryStatus = {
      ...key,
      providerMessageId,
      status,
      ...(reason ? { reason } : {}),
    };
    return { messages: [], statuses: [delivery] };
  }
}

/** `Twilio error 30003: Unreachable destination handset`, or the bare code when nothing says more. */
function failureReason(params: TwilioParams): string | undefined {
  const code = param(params, 'ErrorCode');
  if (code === undefined) return undefined;
  const text =
    param(params, 'ErrorMessage') ??
    ERROR_TITLES.get(code) ??
    param(params, 'ChannelStatusMessage');
  return text ? `Twilio error ${code}: ${text}` : `Twilio error ${code}`;
}
