import {
  ConfirmSubscriptionCommand,
  SNSClient,
  SNSServiceException,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config';
import { SNS_WEBHOOK_PATH } from '../http';
import { SNS_CLIENT } from './sns-client';

export interface SubscribeRetryPolicy {
  /** Attempts per topic, the first one included (each is itself up to 3 SDK attempts). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const SNS_SUBSCRIBE_RETRY = Symbol('SnsSubscribeRetry');

const DEFAULT_RETRY: SubscribeRetryPolicy = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export type StartupSubscription =
  | { topicArn: string; outcome: 'confirmed'; subscriptionArn: string }
  /** SNS is sending a SubscriptionConfirmation to the endpoint. */
  | { topicArn: string; outcome: 'pending-confirmation' }
  | { topicArn: string; outcome: 'failed'; error: string };

/**
 * The bridge's side of its SNS subscriptions: confirming them with the SDK (a signed
 * ConfirmSubscription; the SubscribeURL is never fetched) and, with `SNS_SUBSCRIBE_ON_START`,
 * subscribing `PUBLIC_BASE_URL/webhooks/connect` to every allowed topic.
 *
 * Every replica subscribes at start. That is harmless: SNS answers Subscribe for an endpoint
 * that is already subscribed with the existing subscription (and, while it is still pending,
 * sends another SubscriptionConfirmation), so replicas never create a second subscription.
 */
@Injectable()
export class SnsSubscriptions implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SnsSubscriptions.name);
  private readonly stopping = new AbortController();
  private readonly retry: SubscribeRetryPolicy;
  /** The run started at bootstrap (undefined before); it never rejects. */
  startup?: Promise<StartupSubscription[]>;

  constructor(
    private readonly config: AppConfig,
    @Inject(SNS_CLIENT) private readonly client: SNSClient,
    @Optional() @Inject(SNS_SUBSCRIBE_RETRY) retry?: Partial<SubscribeRetryPolicy>,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...retry };
  }

  /** Where SNS should deliver: undefined without PUBLIC_BASE_URL. */
  get endpoint(): string | undefined {
    const base = this.config.http.publicBaseUrl;
    return base === undefined ? undefined : `${base}${SNS_WEBHOOK_PATH}`;
  }

  /**
   * Confirms a subscription with the token of a verified SubscriptionConfirmation and answers
   * its ARN. AuthenticateOnUnsubscribe: only a signed Unsubscribe can end the subscription,
   * not a visit to the UnsubscribeURL that every Notification carries.
   */
  async confirm(topicArn: string, token: string): Promise<string> {
    if (!this.config.sns.topicArns.includes(topicArn)) {
      throw new Error(`refusing to confirm a subscription to ${topicArn}: not in SNS_TOPIC_ARNS`);
    }
    const answer = await this.client.send(
      new ConfirmSubscriptionCommand({
        TopicArn: topicArn,
        Token: token,
        AuthenticateOnUnsubscribe: 'true',
      }),
    );
    const subscriptionArn = answer.SubscriptionArn ?? '';
    this.logger.log({ topicArn, subscriptionArn }, 'SNS subscription confirmed');
    return subscriptionArn;
  }

  /** Subscribes the endpoint to each allowed topic when SNS_SUBSCRIBE_ON_START is on. Never rejects. */
  async subscribeOnStart(): Promise<StartupSubscription[]> {
    const endpoint = this.endpoint;
    if (!this.config.sns.subscribeOnStart || endpoint === undefined) return [];
    return Promise.all(
      this.config.sns.topicArns.map((topicArn) => this.subscribeWithRetry(topicArn, endpoint)),
    );
  }

  /** Runs in the background so that an unreachable SNS never holds up start-up. */
  onApplicationBootstrap(): void {
    this.startup = this.subscribeOnStart();
  }

  /** Stops retrying; a subscription not made yet is made by the next replica to start. */
  onApplicationShutdown(): void {
    this.stopping.abort();
  }

  private async subscribeWithRetry(
    topicArn: string,
    endpoint: string,
  ): Promise<StartupSubscription> {
    const protocol = new URL(endpoint).protocol.replace(/:$/, '');
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.client.send(
          new SubscribeCommand({ TopicArn: topicArn, Protocol: protocol, Endpoint: endpoint }),
          { abortSignal: this.stopping.signal },
        );
        const arn = answer.SubscriptionArn;
        if (arn === undefined || arn === 'pending confirmation') {
          this.logger.log({ topicArn, endpoint }, 'SNS subscription awaits its confirmation');
          return { topicArn, outcome: 'pending-confirmation' };
        }
        this.logger.log({ topicArn, endpoint, subscriptionArn: arn }, 'SNS subscription in place');
        return { topicArn, outcome: 'confirmed', subscriptionArn: arn };
      } catch (error) {
        const reason = describe(error);
        if (this.stopping.signal.aborted)
          return { topicArn, outcome: 'failed', error: 'shut down' };
        const last = attempt >= this.retry.attempts || isPermanent(error);
        const details = { topicArn, endpoint, attempt, error: reason };
        if (last) {
          this.logger.error(details, 'SNS subscription failed; not retrying');
          return { topicArn, outcome: 'failed', error: reason };
        }
        this.logger.warn(details, 'SNS subscription failed; retrying');
        try {
          await sleep(this.backoffMs(attempt), undefined, { signal: this.stopping.signal });
        } catch {
          return { topicArn, outcome: 'failed', error: 'shut down' };
        }
      }
    }
  }

  /** Exponential backoff with equal jitter. */
  private backoffMs(failedAttempt: number): number {
    const step = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (failedAttempt - 1));
    return step / 2 + Math.random() * (step / 2);
  }
}

/** A refusal that another attempt would not change (bad topic, no permission…); throttling is retried. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof SNSServiceException &&
    error.$fault === 'client' &&
    error.name !== 'ThrottledException'
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
