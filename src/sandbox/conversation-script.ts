import { eventually } from './eventually';
import type { ChatItem } from './emulator';
import type { Contact } from './emulator/model';
import { sendGenericMessage } from './generic-customer';
import { type Sandbox, SANDBOX_CREDENTIALS } from './sandbox';

const CUSTOMER = '+15550100001';
const BUSINESS = '+15550199999';
const WAIT_MS = 15_000;

/**
 * The scripted conversation `npm run sandbox` plays, both ways: the customer writes through the
 * generic channel, an agent joins in the Connect emulator and answers, the customer replies, the
 * agent ends the chat, and the customer's next message starts a new contact.
 */
export async function playConversation(
  sandbox: Sandbox,
  print: (line: string) => void,
): Promise<void> {
  const center = sandbox.emulator.center;
  const contacts = (): Contact[] =>
    center.list().filter((contact) => contact.attributes.customerAddress === CUSTOMER);
  const liveContact = () => contacts().find((contact) => contact.endedAt === undefined);
  const atConnect = (text: string) =>
    contacts().some((contact) => contact.transcript.some((item) => item.Content === text));
  let printedItems = 0;
  const printConnectSide = () => {
    const items = contacts().flatMap((contact) => contact.transcript);
    for (const item of items.slice(printedItems)) print(`  connect   ${describe(item)}`);
    printedItems = items.length;
  };
  let seen = 0;
  const customerReceives = async (...texts: string[]) => {
    await eventually(
      `the customer received ${JSON.stringify(texts)}`,
      () => sandbox.genericApp.messages().some((message) => message.text === texts.at(-1)),
      WAIT_MS,
    );
    for (const message of sandbox.genericApp.messages().slice(seen)) {
      print(`  customer  ← ${message.text ?? JSON.stringify(message.attachments)}`);
    }
    seen = sandbox.genericApp.messages().length;
  };

  let messageNumber = 0;
  const customerSays = async (text: string) => {
    print(`customer ${CUSTOMER} → bridge: ${text}`);
    const res = await sendGenericMessage(
      sandbox.bridge.url,
      SANDBOX_CREDENTIALS.genericWebhookSecret,
      {
        messageId: `sandbox-${(messageNumber += 1)}`,
        from: CUSTOMER,
        to: BUSINESS,
        text,
        displayName: 'Ada',
      },
      'sandbox',
    );
    if (res.status !== 200)
      throw new Error(`the bridge answered ${res.status}: ${await res.text()}`);
    await eventually(`"${text}" at Connect`, () => atConnect(text), WAIT_MS);
  };
  const agentSays = (content: string) => {
    print(`agent Sam → Connect: ${content}`);
    center.agentMessage(liveContact()!.contactId, { content, contentType: 'text/markdown' });
  };

  await customerSays('Hi! My order #1042 has not arrived yet.');
  await customerSays('It was due on Monday.');
  const first = liveContact()!.contactId;
  print('the agent side of the Connect emulator received:');
  printConnectSide();

  print('agent Sam joins');
  center.agentJoin(first, 'Sam');
  agentSays('Sorry about that, Ada. **It left our warehouse today**; it arrives tomorrow.');
  await customerReceives(
    'Sam has joined the chat.',
    'Sorry about that, Ada. It left our warehouse today; it arrives tomorrow.',
  );
  await customerSays('Great, thank you!');
  print('agent Sam ends the chat');
  center.endChat(first);
  await customerReceives('The chat has ended. Write again any time.');

  await customerSays('One more thing: can I change the delivery address?');
  const second = liveContact()!.contactId;
  if (second === first) throw new Error('the message after the end did not start a new contact');
  print(`a new contact started: ${second} (the first was ${first})`);
  print('the agent side of the Connect emulator since then:');
  printConnectSide();
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
