export type { Fault, FakeServerOptions } from './fake-provider';
export type { HostedMedia, MediaDownload } from './media-store';
export type { WebhookAttempt } from './webhook-outbox';
export { WebhookReceiver, type ReceivedRequest, type ReceiverAnswer } from './webhook-receiver';
export {
  FakeTwilio,
  type CapturedTwilioMessage,
  type FakeTwilioOptions,
  type TwilioCustomerMessage,
  type TwilioDeliveryFailure,
  type TwilioErrorBody,
  type TwilioMessageResource,
  type TwilioMessageStatus,
  type TwilioStatusCallback,
  type TwilioWebhookSigning,
} from './twilio-fake';
export {
  FakeWhatsApp,
  metaWebhookSignature,
  type CapturedWhatsAppMessage,
  type FakeWhatsAppOptions,
  type GraphErrorBody,
  type WebhookVerification,
  type WhatsAppCustomerMessage,
  type WhatsAppDeliveryFailure,
  type WhatsAppInboundContent,
  type WhatsAppInboundMedia,
  type WhatsAppMedia,
  type WhatsAppMediaInfo,
  type WhatsAppMessageType,
  type WhatsAppSendResponse,
  type WhatsAppStatus,
  type WhatsAppStatusWebhook,
  type WhatsAppWebhookPayload,
  type WhatsAppWebhookSigning,
} from './whatsapp-fake';
export {
  FakeGenericApp,
  type CapturedGenericMessage,
  type FakeGenericAppOptions,
} from './generic-app-fake';
