import { z } from 'zod';

const text = z.string().min(1);

/** The fields every SNS HTTP(S) message carries. Unknown fields are ignored, not refused. */
const common = {
  MessageId: text,
  TopicArn: text,
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
  // Any value passes here so that an unknown version is told apart from a malformed envelope.
  SignatureVersion: text,
  Signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  SigningCertURL: text,
};

// https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
const notification = z.object({
  Type: z.literal('Notification'),
  ...common,
  Subject: z.string().optional(),
  UnsubscribeURL: text,
  MessageAttributes: z.record(z.string(), z.object({ Type: text, Value: z.string() })).optional(),
});

// https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html and
// https://docs.aws.amazon.com/sns/latest/dg/http-unsubscribe-confirmation-json.html
const confirmation = z.object({
  Type: z.enum(['SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  ...common,
  Token: text,
  SubscribeURL: text,
});

export const snsEnvelopeSchema = z.discriminatedUnion('Type', [notification, confirmation]);

export type SnsEnvelope = z.infer<typeof snsEnvelopeSchema>;
export type SnsNotificationEnvelope = z.infer<typeof notification>;
export type SnsConfirmationEnvelope = z.infer<typeof confirmation>;
