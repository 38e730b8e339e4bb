/**
 * What the chaos suite checks, as pure functions over what the customers, agents, Connect and the
 * provider saw, so the checks themselves can be tested.
 */

export interface CustomerSide {
  /** Every message id the customer posted, in posting order. */
  posted: string[];
  /** The ids the bridge answered 2xx for. */
  accepted: string[];
  /** The customer's message ids in Connect's transcripts, one list per contact, oldest first. */
  atConnect: string[][];
}

export interface CustomerFindings {
  /** Accepted, but in no transcript. */
  missing: string[];
  /** In transcripts more than once, other than as below. */
  duplicated: string[];
  /**
   * Once at the end of a contact that then ended and once more in the next contact: Connect
   * took it but answered an error (or the process died) before the bridge knew, and the retry
   * found the contact ended and started the next one. Sending it again is the price of never
   * losing it; counted and reported.
   */
  resentAfterChatEnd: string[];
  /** In a transcript after a message the customer posted later. */
  outOfOrder: string[];
  /** In a transcript without the customer ever posting it. */
  unknown: string[];
}

export function checkCustomerSide(side: CustomerSide): CustomerFindings {
  const position = new Map(side.posted.map((id, index) => [id, index]));
  const contactsOf = new Map<string, number[]>();
  side.atConnect.forEach((ids, contact) => {
    for (const id of ids) contactsOf.set(id, [...(contactsOf.get(id) ?? []), contact]);
  });
  const findings: CustomerFindings = {
    missing: [],
    duplicated: [],
    resentAfterChatEnd: [],
    outOfOrder: [],
    unknown: [],
  };
  for (const [id, contacts] of contactsOf) {
    if (contacts.length === 1) continue;
    const [first, again] = contacts;
    const acrossEnd = contacts.length === 2 && again === first + 1;
    (acrossEnd ? findings.resentAfterChatEnd : findings.duplicated).push(id);
  }
  const seen = new Set<string>();
  let last = -1;
  for (const id of side.atConnect.flat()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const at = position.get(id);
    if (at === undefined) {
      findings.unknown.push(id);
      continue;
    }
    if (at < last) findings.outOfOrder.push(id);
    last = Math.max(last, at);
  }
  findings.missing = side.accepted.filter((id) => !seen.has(id));
  return findings;
}

/** A message the provider took for the customer. */
export interface ProviderReceipt {
  /** The bridge's id of the send: the same id for every resend of one Connect item. */
  sendId: string;
  /** What the customer sees, reduced to the token the agent side expects (see `expected`). */
  token: string;
  at: number;
}

export interface AgentSide {
  /** Tokens in the order Connect produced them: agent messages, greetings, ended notices. */
  expected: string[];
  received: ProviderReceipt[];
  /** When bridge processes were killed (epoch ms). */
  kills: number[];
}

export interface AgentFindings {
  missing: string[];
  /** Received, first copies only, in an order other than the expected one. */
  outOfOrder: boolean;
  receivedOrder: string[];
  /** Where the received order first leaves the expected one, with a few tokens either side. */
  divergence?: { index: number; expected: string[]; received: string[] };
  /** Repeated sends with a process killed between the first copy and this one. */
  duplicatesAfterKill: string[];
  /** Repeated sends with no kill in between: the bridge sent twice on its own. */
  unexplainedDuplicates: { token: string; firstAt: number; againAt: number }[];
}

export function checkAgentSide(side: AgentSide): AgentFindings {
  const first = new Map<string, ProviderReceipt>();
  const findings: AgentFindings = {
    missing: [],
    outOfOrder: false,
    receivedOrder: [],
    duplicatesAfterKill: [],
    unexplainedDuplicates: [],
  };
  for (const receipt of side.received) {
    const earlier = first.get(receipt.sendId);
    if (!earlier) {
      first.set(receipt.sendId, receipt);
      findings.receivedOrder.push(receipt.token);
      continue;
    }
    const killedBetween = side.kills.some((at) => at >= earlier.at && at <= receipt.at);
    if (killedBetween) findings.duplicatesAfterKill.push(receipt.token);
    else {
      findings.unexplainedDuplicates.push({
        token: receipt.token,
        firstAt: earlier.at,
        againAt: receipt.at,
      });
    }
  }
  const unmatched = new Map<string, number>();
  for (const token of findings.receivedOrder) unmatched.set(token, (unmatched.get(token) ?? 0) + 1);
  for (const token of side.expected) {
    const left = unmatched.get(token) ?? 0;
    if (left > 0) unmatched.set(token, left - 1);
    else findings.missing.push(token);
  }
  const length = Math.max(findings.receivedOrder.length, side.expected.length);
  const index = Array.from({ length }, (_, i) => i).find(
    (i) => findings.receivedOrder[i] !== side.expected[i],
  );
  findings.outOfOrder = index !== undefined;
  if (index !== undefined) {
    const around = (tokens: string[]) => tokens.slice(Math.max(0, index - 2), index + 4);
    findings.divergence = {
      index,
      expected: around(side.expected),
      received: around(findings.receivedOrder),
    };
  }
  return findings;
}

/** A contact as Connect kept it: when it started and, if it did, ended. */
export interface ContactSpan {
  contactId: string;
  createdAt: number;
  endedAt?: number;
}

/** Pairs of contacts of one customer that were live at the same time. */
export function overlappingContacts(contacts: ContactSpan[]): [string, string][] {
  const sorted = [...contacts].sort((a, b) => a.createdAt - b.createdAt);
  const overlaps: [string, string][] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const end = sorted[i].endedAt ?? Infinity;
      if (sorted[j].createdAt < end) overlaps.push([sorted[i].contactId, sorted[j].contactId]);
    }
  }
  return overlaps;
}
