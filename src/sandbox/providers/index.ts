export type { Fault, FakeServerOptions } from './fake-provider';
export {
  FakeTwilio,
  type CapturedTwilioMessage,
  type FakeTwilioOptions,
  type TwilioErrorBody,
  type TwilioMessageResource,
} from './twilio-fake';
export {
  FakeWhatsApp,
  type CapturedWhatsAppMessage,
  type FakeWhatsAppOptions,
  type GraphErrorBody,
  type WhatsAppMedia,
  type WhatsAppMessageType,
  type WhatsAppSendResponse,
} from './whatsapp-fake';
export {
  FakeGenericApp,
  type CapturedGenericMessage,
  type FakeGenericAppOptions,
} from './generic-app-fake';
