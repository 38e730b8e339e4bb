import type { CustomerDelivery, CustomerLine, SandboxFile } from './customer-lines';
import { eventually } from './eventually';
import type { ChatItem } from './emulator';
import type { Contact } from './emulator/model';
import type { Sandbox } from './sandbox';

const WAIT_MS = 15_000;

/** The photo the customer sends and the file the agent sends back. */
export const SCRIPT_FILES = {
  customerPhoto: {
    name: 'parcel-label.jpg',
    contentType: 'image/jpeg',
    content: Buffer.from('a photo of the parcel label'),
  },
  agentFile: {
    name: 'return-label.pdf',
    contentType: 'application/pdf',
    content: Buffer.from('%PDF-1.7 return label'),
  },
} satisfies Record<string, SandboxFile>;

/**
 * The scripted conversation `npm run sandbox` plays, both ways, over one customer line: the
 * customer writes and sends a photo, an agent joins in the Connect emulator, answers in markdown
 * and sends a file, the customer replies, the agent ends the chat, and the customer's next
 * message starts a new contact.
 */
export async function playConversation(
  sandbox: Sandbox,
  customer: CustomerLine,
  print: (line: string) => void,
): Promise<void> {
  const center = sandbox.emulator.center;
  const contacts = (): Contact[] =>
    center.list().filter((contact) => contact.attributes.customerAddress === customer.address);
  const liveContact = () => contacts().find((contact) => contact.endedAt === undefined);
  const items = () => contacts().flatMap((contact) => contact.transcript);
  const customerFiles = () =>
    items().filter((item) => item.Type === 'ATTACHMENT' && item.ParticipantRole === 'CUSTOMER');
  let printedItems = 0;
  const printConnectSide = () => {
    for (const item of items().slice(printedItems)) print(`  connect   ${describe(item)}`);
    printedItems = items().length;
  };
  let seen = 0;
  /** Waits for a delivery that `expected` matches, then prints every new one. */
  const customerReceives = async (
    what: string,
    expected: (delivery: CustomerDelivery) => boolean,
  ) => {
    await eventually(
      `the customer received ${what}`,
      () => customer.received().slice(seen).some(expected),
      WAIT_MS,
    );
    for (const delivery of customer.received().slice(seen)) {
      const parts = [delivery.text, delivery.fileUrl && `[file ${delivery.fileUrl}]`];
      print(`  customer  ← ${parts.filter(Boolean).join(' ')}`);
    }
    seen = customer.received().length;
  };
  const customerSays = async (text: string, file?: SandboxFile) => {
    print(`customer ${customer.address} → bridge: ${text}${file ? ` [${file.name}]` : ''}`);
    const filesBefore = customerFiles().length;
    await customer.say(text, file);
    await eventually(
      `"${text}" at Connect`,
      () =>
        items().some((item) => item.Content === text) &&
        customerFiles().length === filesBefore + (file ? 1 : 0),
      WAIT_MS,
    );
  };
  const agentSays = (content: string) => {
    print(`agent Sam → Connect: ${content}`);
    center.agentMessage(liveContact()!.contactId, { content, contentType: 'text/markdown' });
  };

  await customerSays('Hi! My order #1042 has not arrived yet.');
  await customerSays('Here is the label on the parcel I got instead.', SCRIPT_FILES.customerPhoto);
  const first = liveContact()!.contactId;
  print('the agent side of the Connect emulator received:');
  printConnectSide();

  print('agent Sam joins');
  center.agentJoin(first, 'Sam');
  agentSays('Sorry about that, Ada. **It left our warehouse today**; it arrives tomorrow.');
  await customerReceives('the answer', (delivery) => delivery.text?.includes('tomorrow') ?? false);
  print(`agent Sam → Connect: [${SCRIPT_FILES.agentFile.name}]`);
  center.agentAttachment(first, SCRIPT_FILES.agentFile);
  await customerReceives('the file', (delivery) => delivery.fileUrl !== undefined);
  await customerSays('Great, thank you!');
  print('agent Sam ends the chat');
  center.endChat(first);
  await customerReceives(
    'the chat-ended text',
    (delivery) => delivery.text?.startsWith('The chat has ended') ?? false,
  );

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
      : item.Type === 'ATTACHMENT'
        ? `file ${item.Attachments?.map((file) => file.AttachmentName).join(', ')}`
        : item.ContentType.replace('application/vnd.amazonaws.connect.event.', 'event ');
  return `${item.AbsoluteTime}  ${who}: ${what}  [contact ${item.ContactId}]`;
}
