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

/** The customer `+15550100001` on the chosen channel of the sandbox. */
export function customerLine(sandbox: Sandbox, channel: SandboxChannel): CustomerLine {
  const number = '+15550100001';
  let messageNumber = 0;
  const nextId = () => `sandbox-${(messageNumber += 1)}`;
  switch (channel) {
    case 'generic':
      return {
        address: number,
        say: async (text, file) => {
          const response = await sendGenericMessage(
            sandbox.bridge.url,
            SANDBOX_CREDENTIALS.genericWebhookSecret,
            {
              messageId: nextId(),
              from: number,
              to: BUSINESS_NUMBER,
              text,
              displayName: 'Ada',
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
            .filter((message) => message.to === number)
            .map((message) => ({ text: message.text, fileUrl: message.attachments[0]?.url })),
      };
    default:
      throw new Error(`no customer line for ${channel}`);
  }
}
