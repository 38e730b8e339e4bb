import { randomBytes } from 'node:crypto';
import { sendGenericMessage } from './generic-customer';
import type { Sandbox } from './sandbox';
import { SANDBOX_CREDENTIALS } from './sandbox';

export const SANDBOX_CHANNELS = ['generic', 'twilio', 'whatsapp'] as const;
export type SandboxChannel = (typeof SANDBOX_CHANNELS)[number];

export interface SandboxFile {
  name: string;
  contentType: string;
  content: Buffer;
}

/** What reached the customer's phone (or app): a text, a file by URL, or both. */
export interface CustomerDelivery {
  text?: string;
  fileUrl?: string;
}

/** One customer on one channel, as the provider sees them. */
export interface CustomerLine {
  /** The customer's address as Connect sees it (the contact attribute `customerAddress`). */
  readonly address: string;
  /** Posts the customer's message to the bridge, signed as the provider signs it. */
  say(text: string, file?: SandboxFile): Promise<void>;
  /** What the customer has received so far, oldest first. */
  received(): CustomerDelivery[];
}

const BUSINESS_NUMBER = '+15550199999';
/** The WhatsApp Cloud API's id of the business number. */
export const SANDBOX_PHONE_NUMBER_ID = '106540352242922';

async function expectAccepted(response: Response): Promise<void> {
  if (response.ok) return;
  throw new Error(`the bridge answered ${response.status}: ${await response.text()}`);
}

const CUSTOMER_NUMBER = '+15550100001';
const CUSTOMER_NAME = 'Ada';

/** The customer Ada, `+15550100001`, on the chosen channel of the sandbox. */
export function customerLine(sandbox: Sandbox, channel: SandboxChannel): CustomerLine {
  switch (channel) {
    case 'generic':
      return genericCustomer(sandbox);
    case 'twilio':
      return twilioSmsCustomer(sandbox);
    case 'whatsapp':
      return whatsAppCustomer(sandbox);
  }
}

/** Ada in an in-house app: its files are served by the app. */
function genericCustomer(sandbox: Sandbox): CustomerLine {
  let messageNumber = 0;
  return {
    address: CUSTOMER_NUMBER,
    say: async (text, file) => {
      const response = await sendGenericMessage(
        sandbox.bridge.url,
        SANDBOX_CREDENTIALS.genericWebhookSecret,
        {
          messageId: `sandbox-${(messageNumber += 1)}`,
          from: CUSTOMER_NUMBER,
          to: BUSINESS_NUMBER,
          text,
          displayName: CUSTOMER_NAME,
          attachments: file
            ? [
                {
                  url: sandbox.genericApp.hostFile(file.content, file.contentType),
                  contentType: file.contentType,
                  name: file.name,
                },
              ]
            : [],
        },
        'sandbox',
      );
      await expectAccepted(response);
    },
    received: () =>
      sandbox.genericApp
        .messages()
        .filter((message) => message.to === CUSTOMER_NUMBER)
        .map((message) => ({ text: message.text, fileUrl: message.attachments[0]?.url })),
  };
}

/** Ada texting the business number by SMS; a file goes as MMS, its media hosted by Twilio. */
function twilioSmsCustomer(sandbox: Sandbox): CustomerLine {
  const { twilio } = sandbox;
  return {
    address: CUSTOMER_NUMBER,
    say: async (text, file) => {
      const messageSid = `${file ? 'MM' : 'SM'}${randomBytes(16).toString('hex')}`;
      const media = file
        ? [
            {
              url: twilio.hostMedia(file.content, file.contentType, messageSid),
              contentType: file.contentType,
            },
          ]
        : [];
      const { response } = await twilio.sendCustomerMessage(
        `${sandbox.bridge.url}/webhooks/twilio`,
        {
          from: CUSTOMER_NUMBER,
          to: BUSINESS_NUMBER,
          body: text,
          media,
          messageSid,
        },
      );
      await expectAccepted(response);
    },
    received: () =>
      twilio
        .messages()
        .filter((message) => message.to === CUSTOMER_NUMBER)
        .map((message) => ({ text: message.body || undefined, fileUrl: message.mediaUrls[0] })),
  };
}

/** Ada on WhatsApp (Cloud API): a file goes as an image with the text as its caption. */
function whatsAppCustomer(sandbox: Sandbox): CustomerLine {
  const { whatsapp } = sandbox;
  const waId = CUSTOMER_NUMBER.slice(1);
  return {
    address: CUSTOMER_NUMBER,
    say: async (text, file) => {
      const { response } = await whatsapp.sendCustomerMessage({
        from: waId,
        phoneNumberId: SANDBOX_PHONE_NUMBER_ID,
        displayPhoneNumber: BUSINESS_NUMBER.slice(1),
        profileName: CUSTOMER_NAME,
        content: file
          ? {
              type: 'image',
              image: {
                id: whatsapp.hostMedia(file.content, file.contentType),
                mime_type: file.contentType,
                caption: text,
              },
            }
          : { type: 'text', text: { body: text } },
      });
      await expectAccepted(response);
    },
    received: () =>
      whatsapp
        .messages()
        .filter((message) => message.to === CUSTOMER_NUMBER)
        .map((message) => ({
          text: message.text ?? message.media?.caption,
          fileUrl: message.media?.link,
        })),
  };
}
