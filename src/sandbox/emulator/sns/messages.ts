import type { MessageSigner, SignatureVersion, SignedFields, SnsMessageType } from './signer';

/** A message attribute as the HTTP(S) envelope carries it (Binary values in base64). */
export interface MessageAttribute {
  Type: string;
  Value: string;
}

/** The JSON body SNS POSTs to HTTP(S) endpoints, keys in SNS's order. */
export type Envelope = Record<string, string | Record<string, MessageAttribute>>;

export interface Signing {
  signer: MessageSigner;
  version: SignatureVersion;
  certificateUrl: string;
}

export interface Notification {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  timestamp: string;
  attributes: Record<string, MessageAttribute>;
}

// https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
export function notificationEnvelope(
  notification: Notification,
  signing: Signing,
  unsubscribeUrl: string,
): Envelope {
  const signed: SignedFields = {
    Type: 'Notification',
    MessageId: notification.messageId,
    TopicArn: notification.topicArn,
    ...(notification.subject !== undefined && { Subject: notification.subject }),
    Message: notification.message,
    Timestamp: notification.timestamp,
  };
  const hasAttributes = Object.keys(notification.attributes).length > 0;
  return {
    ...signed,
    ...signatureFields(signed, signing),
    UnsubscribeURL: unsubscribeUrl,
    ...(hasAttributes && { MessageAttributes: notification.attributes }),
  };
}

export interface Confirmation {
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  messageId: string;
  topicArn: string;
  token: string;
  message: string;
  subscribeUrl: string;
  timestamp: string;
}

// https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html and
// https://docs.aws.amazon.com/sns/latest/dg/http-unsubscribe-confirmation-json.html
export function confirmationEnvelope(confirmation: Confirmation, signing: Signing): Envelope {
  const signed: SignedFields = {
    Type: confirmation.type,
    MessageId: confirmation.messageId,
    Token: confirmation.token,
    TopicArn: confirmation.topicArn,
    Message: confirmation.message,
    SubscribeURL: confirmation.subscribeUrl,
    Timestamp: confirmation.timestamp,
  };
  return { ...signed, ...signatureFields(signed, signing) };
}

function signatureFields(signed: SignedFields, signing: Signing): Record<string, string> {
  return {
    SignatureVersion: signing.version,
    Signature: signing.signer.sign(signed, signing.version),
    SigningCertURL: signing.certificateUrl,
  };
}

/** The x-amz-sns-* headers; SNS names the subscription on every message but the SubscriptionConfirmation. */
export function snsHeaders(
  type: SnsMessageType,
  messageId: string,
  topicArn: string,
  subscriptionArn: string,
): Record<string, string> {
  return {
    'x-amz-sns-message-type': type,
    'x-amz-sns-message-id': messageId,
    'x-amz-sns-topic-arn': topicArn,
    ...(type !== 'SubscriptionConfirmation' && { 'x-amz-sns-subscription-arn': subscriptionArn }),
  };
}

/** JSON laid out as SNS lays it out (`"Key" : "value"`, one top-level key a line). */
export function formatEnvelope(envelope: Envelope): string {
  const lines = Object.entries(envelope).map(
    ([key, value]) => `  ${JSON.stringify(key)} : ${formatValue(value)}`,
  );
  return `{\n${lines.join(',\n')}\n}`;
}

function formatValue(value: string | Record<string, MessageAttribute>): string {
  if (typeof value === 'string') return JSON.stringify(value);
  const attributes = Object.entries(value).map(
    ([name, attribute]) => `    ${JSON.stringify(name)} : ${JSON.stringify(attribute)}`,
  );
  return `{\n${attributes.join(',\n')}\n  }`;
}
