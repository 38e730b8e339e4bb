import {
  createHash,
  createPrivateKey,
  createSign,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { generate } from 'selfsigned';

/** The topic attribute SignatureVersion: "1" signs with SHA1withRSA, "2" with SHA256withRSA. */
export type SignatureVersion = '1' | '2';

export type SnsMessageType =
  'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** The envelope fields that take part in the signature, by message type. */
export interface SignedFields {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
}

// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
const NOTIFICATION_KEYS: readonly (keyof SignedFields)[] = [
  'Message',
  'MessageId',
  'Subject',
  'Timestamp',
  'TopicArn',
  'Type',
];
const CONFIRMATION_KEYS: readonly (keyof SignedFields)[] = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

/** `Key\nvalue\n` for each signed key that the envelope has, keys in alphabetical order. */
export function canonicalString(fields: SignedFields): string {
  const keys = fields.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  return keys.map((key) => (fields[key] === undefined ? '' : `${key}\n${fields[key]}\n`)).join('');
}

/** Holds the RSA key and the self-signed certificate that SigningCertURL serves. */
export class MessageSigner {
  /** 32 hex characters naming the certificate file, like SNS's `SimpleNotificationService-<id>.pem`. */
  readonly certificateId: string;
  /** Parsed once: parsing the PEM on every signature cost more than the signature. */
  private readonly privateKey: KeyObject;

  private constructor(
    privateKeyPem: string,
    readonly certificatePem: string,
  ) {
    this.privateKey = createPrivateKey(privateKeyPem);
    const der = new X509Certificate(certificatePem).raw;
    this.certificateId = createHash('sha256').update(der).digest('hex').slice(0, 32);
  }

  static async create(): Promise<MessageSigner> {
    const notBeforeDate = new Date(Date.now() - 24 * 60 * 60 * 1000);
    const notAfterDate = new Date(notBeforeDate.getTime() + 366 * 24 * 60 * 60 * 1000);
    const pems = await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
    });
    return new MessageSigner(pems.private, pems.cert);
  }

  /** The base64 Signature of the envelope. */
  sign(fields: SignedFields, version: SignatureVersion): string {
    return createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
      .update(canonicalString(fields), 'utf8')
      .sign(this.privateKey, 'base64');
  }
}
