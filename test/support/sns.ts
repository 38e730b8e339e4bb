import { SnsRejection } from '../../src/streaming';

/** The JSON body SNS POSTs to an HTTP(S) subscriber, as a receiver parses it. */
export interface ReceivedSnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** The SnsRejection a verification ends with; fails when it resolves or throws anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<SnsRejection> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SnsRejection) return error;
    throw error;
  }
  throw new Error('expected an SnsRejection');
}
