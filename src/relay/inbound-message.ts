/** A customer's message as every channel hands it to the relay. */
export interface InboundMessage {
  /** `sms`, `whatsapp`, `generic:<name>`: part of the conversation's identity. */
  channel: string;
  /** The provider's stable id of the message: the key for deduplication and ClientTokens. */
  providerMessageId: string;
  customerAddress: string;
  businessAddress: string;
  displayName?: string;
  text?: string;
  attachments: InboundAttachment[];
  /** Epoch ms at which the webhook arrived. */
  receivedAt: number;
}

export interface InboundAttachment {
  url: string;
  contentType: string;
  name?: string;
}
