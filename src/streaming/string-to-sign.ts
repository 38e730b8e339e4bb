import type { SnsEnvelope } from './sns-envelope';

// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_KEYS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

/**
 * The string SNS signs: `Key\nValue\n` for each signed key in this fixed order. Only a
 * Notification's Subject may be absent; then it is left out entirely.
 */
export function stringToSign(envelope: SnsEnvelope): string {
  const keys = envelope.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  const fields = envelope as Record<string, unknown>;
  return keys
    .filter((key) => typeof fields[key] === 'string')
    .map((key) => `${key}\n${fields[key] as string}\n`)
    .join('');
}
