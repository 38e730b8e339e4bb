/** A Notification whose signature, certificate, topic and age have been checked. */
export interface VerifiedNotification {
  kind: 'notification';
  /** Stable across SNS retries: the key to deduplicate on. */
  messageId: string;
  topicArn: string;
  /** The published message (for Connect, a JSON string). */
  message: string;
  /**
   * MessageAttributes by name (String values as they are, Binary ones in base64). Attributes are
   * not covered by the SNS signature: facts that the signed `message` also carries should be
   * taken from it.
   */
  attributes: Record<string, string>;
  /** ISO 8601 time SNS received the message. */
  timestamp: string;
}

export interface VerifiedSubscriptionConfirmation {
  kind: 'subscription-confirmation';
  topicArn: string;
  /** A secret: confirms the subscription (SnsSubscriptions.confirm); never log it. */
  token: string;
  /** Carries the token too; never fetched (the SDK's ConfirmSubscription is used instead). */
  subscribeUrl: string;
}

export interface VerifiedUnsubscribeConfirmation {
  kind: 'unsubscribe-confirmation';
  topicArn: string;
}

export type VerifiedSnsMessage =
  VerifiedNotification | VerifiedSubscriptionConfirmation | VerifiedUnsubscribeConfirmation;
