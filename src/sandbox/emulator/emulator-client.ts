import type { FaultPlan } from './faults';
import type { ChatItem, ParticipantRole, Visibility } from './model';
import type { RecordedRequest } from './service-routes';

export interface ContactView {
  initialContactId: string;
  contactId: string;
  contactIds: string[];
  state: 'CONNECTED' | 'ENDED';
  attributes: Record<string, string>;
  streaming: { streamingId: string; topicArn: string }[];
  participants: {
    participantId: string;
    role: ParticipantRole;
    displayName: string;
    connected: boolean;
    left: boolean;
  }[];
  transcript?: ChatItem[];
}

/** The emulator's control API over HTTP: the agent's side and inspection, for tests and the sandbox. */
export class EmulatorClient {
  constructor(private readonly baseUrl: string) {}

  contacts(): Promise<ContactView[]> {
    return this.call('GET', '/_emulator/contacts');
  }

  contact(contactId: string): Promise<ContactView> {
    return this.call('GET', `/_emulator/contacts/${contactId}`);
  }

  agentJoins(contactId: string, displayName?: string): Promise<{ participantId: string }> {
    return this.call('POST', `/_emulator/contacts/${contactId}/agent/join`, { displayName });
  }

  agentSays(
    contactId: string,
    content: string,
    options: { contentType?: string; visibility?: Visibility; role?: ParticipantRole } = {},
  ): Promise<ChatItem> {
    return this.call('POST', `/_emulator/contacts/${contactId}/agent/messages`, {
      content,
      ...options,
    });
  }

  agentSendsFile(
    contactId: string,
    file: { name: string; contentType: string; content: Buffer },
  ): Promise<ChatItem> {
    return this.call('POST', `/_emulator/contacts/${contactId}/agent/attachments`, {
      name: file.name,
      contentType: file.contentType,
      contentBase64: file.content.toString('base64'),
    });
  }

  agentTypes(contactId: string): Promise<ChatItem> {
    return this.call('POST', `/_emulator/contacts/${contactId}/agent/typing`);
  }

  agentLeaves(contactId: string): Promise<void> {
    return this.call('POST', `/_emulator/contacts/${contactId}/agent/leave`);
  }

  transfer(contactId: string): Promise<{ contactId: string }> {
    return this.call('POST', `/_emulator/contacts/${contactId}/transfer`);
  }

  systemSays(contactId: string, content: string, visibility?: Visibility): Promise<ChatItem> {
    return this.call('POST', `/_emulator/contacts/${contactId}/system/messages`, {
      content,
      visibility,
    });
  }

  endChat(contactId: string): Promise<void> {
    return this.call('POST', `/_emulator/contacts/${contactId}/end`);
  }

  expireCredentials(contactId: string): Promise<{ expired: number }> {
    return this.call('POST', `/_emulator/contacts/${contactId}/expire-credentials`);
  }

  requests(operation?: string): Promise<RecordedRequest[]> {
    const query = operation ? `?operation=${encodeURIComponent(operation)}` : '';
    return this.call('GET', `/_emulator/requests${query}`);
  }

  setFaults(plan: FaultPlan): Promise<FaultPlan> {
    return this.call('PUT', '/_emulator/faults', plan);
  }

  reset(): Promise<void> {
    return this.call('POST', '/_emulator/reset');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
