import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { verify } from 'node:crypto';
import { AppConfig } from '../config';
import { type SnsEnvelope, snsEnvelopeSchema } from './sns-envelope';
import { SnsRejection } from './sns-rejection';
import { type SigningCertificateOptions, SigningCertificates } from './signing-certificates';
import { stringToSign } from './string-to-sign';
import type { VerifiedSnsMessage } from './verified-sns-message';

export interface SnsVerifierOptions extends SigningCertificateOptions {
  /**
   * Older messages are refused as replays. SNS stamps Timestamp when it accepts a message and
   * keeps it on retries; its HTTP(S) retries stop after 3,600 s at most (a hard limit; the
   * default policy gives up after about a minute), so a genuine delivery is never older than
   * that plus clock skew.
   */
  maxMessageAgeMs: number;
  /** How far ahead of our clock a Timestamp may be. */
  maxClockSkewMs: number;
}

export const SNS_VERIFIER_OPTIONS = Symbol('SnsVerifierOptions');

const MINUTE_MS = 60_000;
const DEFAULT_OPTIONS: SnsVerifierOptions = {
  maxMessageAgeMs: 65 * MINUTE_MS,
  maxClockSkewMs: 5 * MINUTE_MS,
  fetchTimeoutMs: 5_000,
  maxBytes: 10 * 1024,
  maxEntries: 20,
  ttlMs: 60 * MINUTE_MS,
  now: Date.now,
};

const SIGNATURE_ALGORITHMS: Record<string, string | undefined> = {
  '1': 'RSA-SHA1',
  '2': 'RSA-SHA256',
};

/**
 * Checks that a parsed SNS HTTP(S) envelope is genuine, as AWS prescribes, cheapest check
 * first so that nothing is fetched for a message that fails a local check:
 * shape → SignatureVersion → TopicArn allow-list → SigningCertURL pattern → age →
 * certificate (fetched, cached) → signature.
 */
@Injectable()
export class SnsMessageVerifier {
  private readonly logger = new Logger(SnsMessageVerifier.name);
  private readonly options: SnsVerifierOptions;
  private readonly certificates: SigningCertificates;
  private readonly allowedTopics: ReadonlySet<string>;

  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(SNS_VERIFIER_OPTIONS) options: Partial<SnsVerifierOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.certificates = new SigningCertificates(this.options);
    this.allowedTopics = new Set(config.sns.topicArns);
  }

  /** Answers the verified message, or rejects with an SnsRejection. */
  async verify(body: unknown): Promise<VerifiedSnsMessage> {
    try {
      return await this.check(body);
    } catch (error) {
      if (error instanceof SnsRejection) {
        const claimed = (name: string) => loggable((body as Record<string, unknown>)?.[name]);
        this.logger.warn(
          {
            reason: error.reason,
            type: claimed('Type'),
            messageId: claimed('MessageId'),
            topicArn: claimed('TopicArn'),
          },
          `SNS message refused: ${error.message}`,
        );
      }
      throw error;
    }
  }

  private async check(body: unknown): Promise<VerifiedSnsMessage> {
    const envelope = this.parse(body);
    const algorithm = SIGNATURE_ALGORITHMS[envelope.SignatureVersion];
    if (!algorithm) {
      throw new SnsRejection(
        'unsupported-signature-version',
        'SignatureVersion must be "1" or "2"',
      );
    }
    if (!this.allowedTopics.has(envelope.TopicArn)) {
      throw new SnsRejection('topic-not-allowed', 'TopicArn is not in SNS_TOPIC_ARNS');
    }
    this.checkCertificateUrl(envelope.SigningCertURL);
    this.checkAge(envelope.Timestamp);

    const certificate = await this.certificates.get(envelope.SigningCertURL);
    const signed = verify(
      algorithm,
      Buffer.from(stringToSign(envelope), 'utf8'),
      certificate.publicKey,
      Buffer.from(envelope.Signature, 'base64'),
    );
    if (!signed) throw new SnsRejection('signature-mismatch', 'the signature does not match');
    return verified(envelope);
  }

  private parse(body: unknown): SnsEnvelope {
    const parsed = snsEnvelopeSchema.safeParse(body);
    if (parsed.success) return parsed.data;
    // Only the top-level key: deeper path elements are attribute names chosen by the sender.
    const named = [
      ...new Set(
        parsed.error.issues.map((issue) => issue.path[0]).filter((key) => key !== undefined),
      ),
    ].map(String);
    throw new SnsRejection(
      'malformed-envelope',
      named.length > 0
        ? `not an SNS envelope: missing or invalid ${named.join(', ')}`
        : 'not an SNS envelope',
    );
  }

  private checkCertificateUrl(url: string): void {
    const allowed =
      URL.canParse(url) &&
      ['https:', 'http:'].includes(new URL(url).protocol) &&
      this.config.sns.certUrlPattern.test(url);
    if (!allowed) {
      throw new SnsRejection(
        'certificate-url-not-allowed',
        'SigningCertURL does not match SNS_CERT_URL_PATTERN',
      );
    }
  }

  private checkAge(timestamp: string): void {
    const age = this.options.now() - Date.parse(timestamp);
    if (age > this.options.maxMessageAgeMs || age < -this.options.maxClockSkewMs) {
      throw new SnsRejection(
        'stale-message',
        `Timestamp ${timestamp} is out of the accepted window`,
      );
    }
  }
}

/** What the sender claims, for the log line of a refusal: short strings only. */
function loggable(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 256) : undefined;
}

function verified(envelope: SnsEnvelope): VerifiedSnsMessage {
  switch (envelope.Type) {
    case 'Notification':
      return {
        kind: 'notification',
        messageId: envelope.MessageId,
        topicArn: envelope.TopicArn,
        message: envelope.Message,
        attributes: Object.fromEntries(
          Object.entries(envelope.MessageAttributes ?? {}).map(([name, { Value }]) => [
            name,
            Value,
          ]),
        ),
        timestamp: envelope.Timestamp,
      };
    case 'SubscriptionConfirmation':
      return {
        kind: 'subscription-confirmation',
        topicArn: envelope.TopicArn,
        token: envelope.Token,
        subscribeUrl: envelope.SubscribeURL,
      };
    case 'UnsubscribeConfirmation':
      return { kind: 'unsubscribe-confirmation', topicArn: envelope.TopicArn };
  }
}
