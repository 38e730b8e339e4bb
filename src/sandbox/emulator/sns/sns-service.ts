import { randomBytes, randomUUID } from 'node:crypto';
import type { Router } from 'express';
import type { SeededRandom } from '../random';
import { HttpDelivery, type DeliveryRecord, type DeliveryRequest } from './delivery';
import {
  confirmationEnvelope,
  formatEnvelope,
  notificationEnvelope,
  snsHeaders,
  type MessageAttribute,
  type Signing,
} from './messages';
import { SnsErrors } from './query-protocol';
import { MessageSigner, type SignatureVersion } from './signer';
import { snsRouter } from './sns-api';

export type { DeliveryOutcome, DeliveryRecord } from './delivery';
export type { MessageAttribute } from './messages';
export type { SignatureVersion } from './signer';

/** Probabilities per Notification delivery, 0..1. */
export interface SnsFaults {
  dropRate: number;
  duplicateRate: number;
}

export interface SnsServiceOptions {
  region: string;
  accountId: string;
  /** Base URL of the emulator server (known only after listen); SubscribeURL and SigningCertURL point here. */
  publicUrl: () => string;
  topicArns?: string[];
  random: SeededRandom;
  faults: () => SnsFaults;
  retry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** SignatureVersion of topics created without one (SNS's default is "1"). */
  signatureVersion?: SignatureVersion;
  /** How long an endpoint may stay silent before the attempt fails (SNS waits 15 s). */
  deliveryTimeoutMs?: number;
  /** Called with each record as deliveries() gets it. */
  onDelivery?: (record: DeliveryRecord) => void;
}

export type SubscriptionProtocol = 'http' | 'https';

export interface SubscriptionView {
  arn: string;
  topicArn: string;
  protocol: SubscriptionProtocol;
  endpoint: string;
  status: 'pending' | 'confirmed';
}

interface Subscription extends SubscriptionView {
  authenticateOnUnsubscribe: boolean;
}

interface Topic {
  arn: string;
  attributes: Record<string, string>;
  subscriptionsDeleted: number;
}

const DEFAULT_RETRY = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const SNS_PROTOCOLS = [
  'http',
  'https',
  'email',
  'email-json',
  'sms',
  'sqs',
  'application',
  'lambda',
  'firehose',
];
const READ_ONLY_TOPIC_ATTRIBUTES = [
  'TopicArn',
  'Owner',
  'SubscriptionsConfirmed',
  'SubscriptionsPending',
  'SubscriptionsDeleted',
];
/** Printable ASCII, starting with a letter, digit or punctuation; no line breaks; at most 100 characters. */
const SUBJECT = /^[!-~][ -~]{0,99}$/;
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/;
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\..+)?$/;
const MAX_MESSAGE_BYTES = 262_144;

/**
 * Amazon SNS for HTTP(S) subscriptions: the Query API (see sns-api.ts), signed deliveries with
 * retries, and the certificate that verifies them. State lives in memory.
 */
export class SnsService {
  readonly router: Router;
  readonly certificatePem: string;
  /** Where the router serves the certificate: `/SimpleNotificationService-<id>.pem`. */
  readonly certificatePath: string;

  private readonly topics = new Map<string, Topic>();
  private readonly subscriptionsByArn = new Map<string, Subscription>();
  /** Confirmation tokens; an UnsubscribeConfirmation's token restores the deleted subscription. */
  private readonly tokens = new Map<string, Subscription>();
  private readonly delivery: HttpDelivery;
  private dropRandom!: SeededRandom;
  private duplicateRandom!: SeededRandom;

  private constructor(
    private readonly options: SnsServiceOptions,
    private readonly signer: MessageSigner,
  ) {
    this.certificatePem = signer.certificatePem;
    this.certificatePath = `/SimpleNotificationService-${signer.certificateId}.pem`;
    this.delivery = new HttpDelivery(
      options.retry ?? DEFAULT_RETRY,
      options.deliveryTimeoutMs ?? 5_000,
      options.onDelivery,
    );
    this.reseed(options.random);
    for (const arn of options.topicArns ?? []) this.topics.set(arn, this.newTopic(arn));
    this.router = snsRouter(this);
  }

  /** Restarts the seeded fault and jitter sequences (when the emulator's fault plan changes). */
  reseed(random: SeededRandom): void {
    this.delivery.jitter = random.fork('sns-retry-jitter');
    this.dropRandom = random.fork('sns-drop');
    this.duplicateRandom = random.fork('sns-duplicate');
  }

  /** Generates the RSA-2048 key and self-signed certificate the deliveries are signed with. */
  static async create(options: SnsServiceOptions): Promise<SnsService> {
    return new SnsService(options, await MessageSigner.create());
  }

  get accountId(): string {
    return this.options.accountId;
  }

  hasTopic(arn: string): boolean {
    return this.topics.has(arn);
  }

  /** Idempotent, like SNS: the same name answers the same ARN unless the attributes differ. */
  createTopic(name: string, attributes: Record<string, string> = {}): string {
    if (!TOPIC_NAME.test(name)) throw SnsErrors.invalidParameter('Invalid parameter: Topic Name');
    const arn = `arn:aws:sns:${this.options.region}:${this.options.accountId}:${name}`;
    const existing = this.topics.get(arn);
    if (existing) {
      if (Object.entries(attributes).some(([key, value]) => existing.attributes[key] !== value)) {
        throw SnsErrors.invalidParameter(
          'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
        );
      }
      return arn;
    }
    const topic = this.newTopic(arn);
    for (const [key, value] of Object.entries(attributes)) this.setAttribute(topic, key, value);
    this.topics.set(arn, topic);
    return arn;
  }

  setTopicAttribute(topicArn: string, name: string, value: string): void {
    this.setAttribute(this.topic(topicArn), name, value);
  }

  topicAttributes(topicArn: string): Record<string, string> {
    const topic = this.topic(topicArn);
    const subscriptions = this.subscriptionsOf(topicArn);
    const count = (status: SubscriptionView['status']) =>
      String(subscriptions.filter((subscription) => subscription.status === status).length);
    return {
      TopicArn: topic.arn,
      Owner: this.options.accountId,
      ...topic.attributes,
      SubscriptionsConfirmed: count('confirmed'),
      SubscriptionsPending: count('pending'),
      SubscriptionsDeleted: String(topic.subscriptionsDeleted),
    };
  }

  /**
   * Subscribing an endpoint already subscribed answers the existing subscription; while it is
   * pending, SNS sends a new SubscriptionConfirmation.
   */
  subscribe(topicArn: string, protocol: string, endpoint: string | undefined): SubscriptionView {
    this.topic(topicArn);
    if (!SNS_PROTOCOLS.includes(protocol)) {
      throw SnsErrors.invalidParameter(
        `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
      );
    }
    if (protocol !== 'http' && protocol !== 'https') {
      throw SnsErrors.invalidParameter(
        `Invalid parameter: Protocol Reason: the emulator delivers only to http and https endpoints, not ${protocol}`,
      );
    }
    if (!endpoint) throw SnsErrors.invalidParameter('Invalid parameter: Endpoint');
    if (!URL.canParse(endpoint) || new URL(endpoint).protocol !== `${protocol}:`) {
      throw SnsErrors.invalidParameter(
        'Invalid parameter: Endpoint must match the specified protocol',
      );
    }
    let subscription = [...this.subscriptionsByArn.values()].find(
      (existing) =>
        existing.topicArn === topicArn &&
        existing.protocol === protocol &&
        existing.endpoint === endpoint,
    );
    if (!subscription) {
      subscription = {
        arn: `${topicArn}:${randomUUID()}`,
        topicArn,
        protocol,
        endpoint,
        status: 'pending',
        authenticateOnUnsubscribe: false,
      };
      this.subscriptionsByArn.set(subscription.arn, subscription);
    }
    if (subscription.status === 'pending') {
      this.sendConfirmation(subscription, 'SubscriptionConfirmation');
    }
    return view(subscription);
  }

  /** Idempotent. `authenticateOnUnsubscribe` counts only for signed requests, as in SNS. */
  confirmSubscription(topicArn: string, token: string, authenticateOnUnsubscribe = false): string {
    if (!TOPIC_ARN.test(topicArn)) throw SnsErrors.invalidParameter('Invalid parameter: Topic');
    const subscription = this.tokens.get(token);
    if (!subscription || subscription.topicArn !== topicArn) {
      throw SnsErrors.invalidParameter('Invalid parameter: Token');
    }
    subscription.status = 'confirmed';
    if (authenticateOnUnsubscribe) subscription.authenticateOnUnsubscribe = true;
    this.subscriptionsByArn.set(subscription.arn, subscription);
    return subscription.arn;
  }

  /**
   * Idempotent for unknown subscriptions. As the Unsubscribe API reference says, only an
   * unauthenticated unsubscribe (the UnsubscribeURL) of a confirmed subscription sends the
   * endpoint an UnsubscribeConfirmation, whose SubscribeURL restores the subscription.
   */
  unsubscribe(subscriptionArn: string, caller = { authenticated: true }): void {
    const elements = subscriptionArn.split(':').length;
    if (elements < 6) {
      throw SnsErrors.invalidParameter(
        `Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not ${elements}`,
      );
    }
    if (elements === 6) throw SnsErrors.invalidParameter('Invalid parameter: SubscriptionId');
    const subscription = this.subscriptionsByArn.get(subscriptionArn);
    if (!subscription) return;
    if (!caller.authenticated && subscription.authenticateOnUnsubscribe) {
      throw SnsErrors.authorization(
        `User: anonymous is not authorized to perform: SNS:Unsubscribe on resource: ${subscriptionArn}`,
      );
    }
    this.subscriptionsByArn.delete(subscriptionArn);
    for (const [token, owner] of this.tokens) if (owner === subscription) this.tokens.delete(token);
    const topic = this.topics.get(subscription.topicArn);
    if (topic) topic.subscriptionsDeleted++;
    if (!caller.authenticated && subscription.status === 'confirmed') {
      this.sendConfirmation(subscription, 'UnsubscribeConfirmation');
    }
  }

  /**
   * Publishes to every confirmed subscription of the topic and answers the SNS MessageId once
   * the deliveries are scheduled (not awaited). A string attribute value has type String.
   */
  publish(
    topicArn: string,
    message: string,
    attributes: Record<string, string | MessageAttribute> = {},
    subject?: string,
  ): string {
    const topic = this.topic(topicArn);
    if (subject !== undefined && !SUBJECT.test(subject)) {
      throw SnsErrors.invalidParameter('Invalid parameter: Subject');
    }
    if (message === '') throw SnsErrors.invalidParameter('Invalid parameter: Empty message');
    const typedAttributes = messageAttributes(attributes);
    const attributeBytes = Object.entries(typedAttributes).reduce(
      (sum, [name, { Type, Value }]) =>
        sum + Buffer.byteLength(name) + Buffer.byteLength(Type) + Buffer.byteLength(Value),
      0,
    );
    if (Buffer.byteLength(message) + attributeBytes > MAX_MESSAGE_BYTES) {
      throw SnsErrors.invalidParameter('Invalid parameter: Message too long');
    }

    const notification = {
      messageId: randomUUID(),
      topicArn,
      subject,
      message,
      timestamp: new Date().toISOString(),
      attributes: typedAttributes,
    };
    const signing = this.signing(topic);
    for (const subscription of this.subscriptionsOf(topicArn)) {
      if (subscription.status !== 'confirmed') continue;
      const unsubscribeUrl = this.url({ Action: 'Unsubscribe', SubscriptionArn: subscription.arn });
      const envelope = notificationEnvelope(notification, signing, unsubscribeUrl);
      this.deliverWithFaults({
        messageId: notification.messageId,
        subscriptionArn: subscription.arn,
        endpoint: subscription.endpoint,
        type: 'Notification',
        headers: snsHeaders('Notification', notification.messageId, topicArn, subscription.arn),
        body: formatEnvelope(envelope),
      });
    }
    return notification.messageId;
  }

  /** The topic's subscriptions (NotFound for an unknown topic). */
  subscriptionsOf(topicArn: string): SubscriptionView[] {
    this.topic(topicArn);
    return this.subscriptions().filter((subscription) => subscription.topicArn === topicArn);
  }

  subscriptions(): SubscriptionView[] {
    return [...this.subscriptionsByArn.values()].map(view);
  }

  /** Every HTTP attempt (and every dropped message), in the order they ended. */
  deliveries(): DeliveryRecord[] {
    return this.delivery.history();
  }

  /** Resolves when no delivery or retry is pending. */
  idle(): Promise<void> {
    return this.delivery.idle();
  }

  /** Cancels pending retries and requests in flight. */
  close(): void {
    this.delivery.close();
  }

  private newTopic(arn: string): Topic {
    const attributes = { DisplayName: '', SignatureVersion: this.options.signatureVersion ?? '1' };
    return { arn, attributes, subscriptionsDeleted: 0 };
  }

  private topic(arn: string): Topic {
    if (!TOPIC_ARN.test(arn)) throw SnsErrors.invalidParameter('Invalid parameter: TopicArn');
    const topic = this.topics.get(arn);
    if (!topic) throw SnsErrors.notFound('Topic does not exist');
    return topic;
  }

  private setAttribute(topic: Topic, name: string, value: string): void {
    if (READ_ONLY_TOPIC_ATTRIBUTES.includes(name)) {
      throw SnsErrors.invalidParameter('Invalid parameter: AttributeName');
    }
    if (name === 'SignatureVersion' && value !== '1' && value !== '2') {
      throw SnsErrors.invalidParameter('Invalid parameter: SignatureVersion');
    }
    topic.attributes[name] = value;
  }

  private signing(topic: Topic): Signing {
    return {
      signer: this.signer,
      version: topic.attributes.SignatureVersion === '2' ? '2' : '1',
      certificateUrl: `${this.baseUrl()}${this.certificatePath}`,
    };
  }

  private sendConfirmation(
    subscription: Subscription,
    type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
  ): void {
    const token = randomBytes(144).toString('hex');
    this.tokens.set(token, subscription);
    const messageId = randomUUID();
    const { topicArn } = subscription;
    const message =
      type === 'SubscriptionConfirmation'
        ? `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`
        : `You have chosen to deactivate subscription ${subscription.arn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`;
    const subscribeUrl = this.url({
      Action: 'ConfirmSubscription',
      TopicArn: topicArn,
      Token: token,
    });
    const topic = this.topics.get(topicArn) ?? this.newTopic(topicArn);
    const envelope = confirmationEnvelope(
      {
        type,
        messageId,
        topicArn,
        token,
        message,
        subscribeUrl,
        timestamp: new Date().toISOString(),
      },
      this.signing(topic),
    );
    this.delivery.deliver({
      messageId,
      subscriptionArn: subscription.arn,
      endpoint: subscription.endpoint,
      type,
      headers: snsHeaders(type, messageId, topicArn, subscription.arn),
      body: formatEnvelope(envelope),
    });
  }

  /** The faults apply to Notifications only, so that subscriptions can always be confirmed. */
  private deliverWithFaults(request: DeliveryRequest): void {
    const faults = this.options.faults();
    if (this.dropRandom.chance(faults.dropRate)) {
      this.delivery.recordDropped(request);
      return;
    }
    this.delivery.deliver(request);
    if (this.duplicateRandom.chance(faults.duplicateRate)) this.delivery.deliver(request, 2);
  }

  private baseUrl(): string {
    return this.options.publicUrl().replace(/\/+$/, '');
  }

  /** A link into the Query API; like SNS's, it leaves the colons of ARNs unescaped. */
  private url(params: Record<string, string>): string {
    const query = Object.entries(params)
      .map(([key, value]) => `${key}=${encodeURIComponent(value).replace(/%3A/g, ':')}`)
      .join('&');
    return `${this.baseUrl()}/?${query}`;
  }
}

function view({ arn, topicArn, protocol, endpoint, status }: Subscription): SubscriptionView {
  return { arn, topicArn, protocol, endpoint, status };
}

function messageAttributes(
  attributes: Record<string, string | MessageAttribute>,
): Record<string, MessageAttribute> {
  const typed: Record<string, MessageAttribute> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    const { Type, Value } =
      typeof attribute === 'string' ? { Type: 'String', Value: attribute } : attribute;
    if (!ATTRIBUTE_NAME.test(name)) {
      throw SnsErrors.invalidParameterValue(`Invalid message attribute name: ${name}`);
    }
    if (!ATTRIBUTE_TYPE.test(Type)) {
      throw SnsErrors.invalidParameterValue(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    if (Value === '') {
      throw SnsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${Type}'.`,
      );
    }
    typed[name] = { Type, Value };
  }
  return typed;
}
