import type { ContactCenter } from '../../../src/sandbox/emulator/contact-center';
import { eventually } from '../../../src/sandbox/eventually';

export const GREETING = 'Welcome to the chaos line.';
export const CHAT_ENDED = 'The chat has ended.';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a provider retries a webhook the bridge did not take: the same message, with backoff. */
const POST_ATTEMPTS = 15;
const retryDelayMs = (attempt: number) => Math.min(2_000, 100 * 2 ** attempt);

export type PostOutcome = number | 'unreachable';

/**
 * A customer writing `messages` messages one after another, each posted again (same id) until
 * the bridge answers 2xx or the provider gives up, as Twilio and Meta do.
 */
export class ChaosCustomer {
  readonly posted: string[] = [];
  readonly accepted: string[] = [];
  /** Answers other than 2xx, by status (or `unreachable`). */
  readonly refusals = new Map<string, number>();

  constructor(
    readonly address: string,
    private readonly ids: (seq: number) => string,
    private readonly messages: number,
    private readonly post: (messageId: string) => Promise<PostOutcome>,
    private readonly pause: () => number,
  ) {}

  /** Messages not posted yet. */
  get remaining(): number {
    return this.messages - this.posted.length;
  }

  async run(): Promise<void> {
    for (let seq = 1; seq <= this.messages; seq++) {
      const id = this.ids(seq);
      this.posted.push(id);
      for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt++) {
        const outcome = await this.post(id);
        if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
          this.accepted.push(id);
          break;
        }
        const key = String(outcome);
        this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
        await sleep(retryDelayMs(attempt));
      }
      await sleep(this.pause());
    }
  }
}

/**
 * The agent of one customer: joins each new contact once the customer is connected, writes
 * `messages` messages in all and, if `endHalfway`, ends the chat once halfway (while the customer
 * still has messages to send, so a new contact follows). `expected` lists what the customer
 * should receive, in Connect's order: the flow's greeting per contact, the agent's messages and
 * the ended notice.
 */
export class ChaosAgent {
  readonly expected: string[] = [];
  private sent = 0;

  constructor(
    private readonly center: ContactCenter,
    private readonly customer: ChaosCustomer,
    private readonly label: string,
    private readonly messages: number,
    private readonly endHalfway: boolean,
    private readonly pause: () => number,
  ) {}

  async run(): Promise<void> {
    const joined = new Set<string>();
    let ended = false;
    while (this.sent < this.messages) {
      const contactId = await this.nextContact(joined);
      this.expected.push(GREETING);
      this.center.agentJoin(contactId, 'Chaos Agent');
      while (this.sent < this.messages) {
        await sleep(this.pause());
        this.sent += 1;
        const text = `agent ${this.label}:${this.sent}`;
        this.center.agentMessage(contactId, { content: text });
        this.expected.push(text);
        const halfway = this.sent === Math.ceil(this.messages / 2);
        if (this.endHalfway && !ended && halfway && this.customer.remaining >= 3) {
          this.center.endChat(contactId);
          this.expected.push(CHAT_ENDED);
          ended = true;
          break;
        }
      }
    }
  }

  /** The customer's live contact the agent has not joined, once the customer is connected. */
  private async nextContact(joined: Set<string>): Promise<string> {
    let found: string | undefined;
    await eventually(
      `a new live contact of ${this.label} with the customer connected`,
      () => {
        const contact = this.center
          .list()
          .find(
            (candidate) =>
              candidate.attributes.customerAddress === this.customer.address &&
              candidate.endedAt === undefined &&
              !joined.has(candidate.initialContactId) &&
              candidate.participants.some((p) => p.role === 'CUSTOMER' && p.connected),
          );
        found = contact?.contactId;
        if (contact) joined.add(contact.initialContactId);
        return contact !== undefined;
      },
      180_000,
    );
    return found!;
  }
}
