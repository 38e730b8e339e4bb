/** A file an agent sent, as the stream names it. */
export interface AgentAttachment {
  attachmentId: string;
  name: string;
  contentType: string;
}

/**
 * One entry of a conversation's outbound lane: something for the customer, or the end of the
 * contact (which waits its turn so that every earlier item still has the contact's credentials).
 */
export type OutboundItem =
  | {
      kind: 'message';
      /** The stream item's Id, or the bridge's own id for a notice of its own. */
      itemId: string;
      /** The contact the item came from; none for the bridge's own notices. */
      contactId?: string;
      text?: string;
      /** text/plain or text/markdown. */
      contentType: string;
      attachments: AgentAttachment[];
    }
  | {
      kind: 'end';
      itemId: string;
      initialContactId: string;
      contactId: string;
      /** CHAT_ENDED_MESSAGE, when configured. */
      notice?: string;
    };
