import { eventually } from './eventually';
import type { ChatItem } from './emulator';
import { sendGenericMessage } from './generic-customer';
import { type Sandbox, SANDBOX_CREDENTIALS } from './sandbox';

const CUSTOMER = '+15550100001';
const BUSINESS = '+15550199999';

/**
 * The scripted conversation `npm run sandbox` plays: a customer writes through the generic
 * channel, and the agent's side of the emulator shows what arrived.
 */
export async function playConversation(
  sandbox: Sandbox,
  print: (line: string) => void,
): Promise<void> {
  const customerSays = async (messageId: string, text: string) => {
    print(`customer ${CUSTOMER} → bridge: ${text}`);
    const res = await sendGenericMessage(
      sandbox.bridge.url,
      SANDBOX_CREDENTIALS.genericWebhookSecret,
      { messageId, from: CUSTOMER, to: BUSINESS, text, displayName: 'Ada' },
      'sandbox',
    );
    if (res.status !== 200)
      throw new Error(`the bridge answered ${res.status}: ${await res.text()}`);
  };

  await customerSays('sandbox-1', 'Hi! My order #1042 has not arrived yet.');
  await customerSays('sandbox-2', 'It was due on Monday.');
  const transcript = () =>
    sandbox.emulator.center
      .list()
      .filter((contact) => contact.attributes.customerAddress === CUSTOMER)
      .flatMap((contact) => contact.transcript);
  await eventually(
    'both messages at Connect',
    () =>
      transcript().filter((item) => item.ParticipantRole === 'CUSTOMER' && item.Type === 'MESSAGE')
        .length >= 2,
    15_000,
  );
  print('the agent side of the Connect emulator received:');
  for (const item of transcript()) print(`  ${describe(item)}`);
}

function describe(item: ChatItem): string {
  const who = item.ParticipantRole
    ? `${item.ParticipantRole} ${item.DisplayName ?? ''}`.trim()
    : 'CONTACT';
  const what =
    item.Type === 'MESSAGE'
      ? `"${item.Content ?? ''}"`
      : item.ContentType.replace('application/vnd.amazonaws.connect.event.', 'event ');
  return `${item.AbsoluteTime}  ${who}: ${what}  [contact ${item.ContactId}]`;
}
