import {
  InternalErrorException,
  NotFoundException,
  SNSClient,
  SubscribeCommand,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { Logger } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { AppConfig } from '../config';
import { SnsSubscriptions, type SubscribeRetryPolicy } from './index';

const STREAM_TOPIC = 'arn:aws:sns:eu-west-2:123456789012:connect-stream';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-2:123456789012:older-stream';
const ENDPOINT = 'https://bridge.example.com/webhooks/connect';

const config = AppConfig.fromEnv({
  AWS_REGION: 'eu-west-2',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: STREAM_TOPIC,
  PUBLIC_BASE_URL: 'https://bridge.example.com',
  SNS_SUBSCRIBE_ON_START: 'true',
});

const metadata = { $metadata: {} };
const serverError = () => new InternalErrorException({ message: 'internal error', ...metadata });
const throttled = () => new ThrottledException({ message: 'Rate exceeded', ...metadata });
const notFound = () => new NotFoundException({ message: 'Topic does not exist', ...metadata });

describe('SnsSubscriptions.subscribeOnStart', () => {
  const client = new SNSClient({ region: 'eu-west-2' });
  const sns = mockClient(client);
  let warnings: jest.SpyInstance;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    sns.reset();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
  });

  afterEach(() => jest.restoreAllMocks());

  const subscriptions = (
    retry: Partial<SubscribeRetryPolicy> = {},
    appConfig: AppConfig = config,
  ) => new SnsSubscriptions(appConfig, client, { baseDelayMs: 1, maxDelayMs: 2, ...retry });

  it('retries server errors and throttling with backoff until SNS answers', async () => {
    sns
      .on(SubscribeCommand)
      .rejectsOnce(serverError())
      .rejectsOnce(throttled())
      .resolves({ SubscriptionArn: `${STREAM_TOPIC}:sub-1` });

    const outcome = await subscriptions({ attempts: 5 }).subscribeOnStart();

    expect(outcome).toEqual([
      { topicArn: STREAM_TOPIC, outcome: 'confirmed', subscriptionArn: `${STREAM_TOPIC}:sub-1` },
    ]);
    expect(sns.commandCalls(SubscribeCommand).map((call) => call.args[0].input)).toEqual(
      Array(3).fill({ TopicArn: STREAM_TOPIC, Protocol: 'https', Endpoint: ENDPOINT }),
    );
    expect(warnings).toHaveBeenCalledTimes(2);
    expect(errors).not.toHaveBeenCalled();
  });

  it('reports a pending subscription', async () => {
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: 'pending confirmation' });

    await expect(subscriptions().subscribeOnStart()).resolves.toEqual([
      { topicArn: STREAM_TOPIC, outcome: 'pending-confirmation' },
    ]);
  });

  it('gives up after the last attempt, logging instead of throwing', async () => {
    sns.on(SubscribeCommand).rejects(serverError());

    const outcome = await subscriptions({ attempts: 3 }).subscribeOnStart();

    expect(outcome).toEqual([
      {
        topicArn: STREAM_TOPIC,
        outcome: 'failed',
        error: 'InternalErrorException: internal error',
      },
    ]);
    expect(sns.commandCalls(SubscribeCommand)).toHaveLength(3);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('does not retry a refusal that another attempt would not change, and goes on with the other topics', async () => {
    const twoTopics = AppConfig.fromEnv({
      AWS_REGION: 'eu-west-2',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: STREAM_TOPIC,
      PUBLIC_BASE_URL: 'http://bridge.internal:8080',
      SNS_SUBSCRIBE_ON_START: 'true',
      SNS_TOPIC_ARNS: `${OTHER_TOPIC},${STREAM_TOPIC}`,
    });
    sns
      .on(SubscribeCommand, { TopicArn: OTHER_TOPIC })
      .rejects(notFound())
      .on(SubscribeCommand, { TopicArn: STREAM_TOPIC })
      .resolves({ SubscriptionArn: `${STREAM_TOPIC}:sub-1` });

    const outcome = await subscriptions({ attempts: 5 }, twoTopics).subscribeOnStart();

    expect(outcome).toEqual([
      {
        topicArn: OTHER_TOPIC,
        outcome: 'failed',
        error: 'NotFoundException: Topic does not exist',
      },
      { topicArn: STREAM_TOPIC, outcome: 'confirmed', subscriptionArn: `${STREAM_TOPIC}:sub-1` },
    ]);
    const calls = sns.commandCalls(SubscribeCommand).map((call) => call.args[0].input);
    expect(calls.filter((input) => input.TopicArn === OTHER_TOPIC)).toHaveLength(1);
    expect(calls.map((input) => input.Protocol)).toEqual(['http', 'http']);
    expect(calls.map((input) => input.Endpoint)).toEqual(
      Array(2).fill('http://bridge.internal:8080/webhooks/connect'),
    );
  });

  it('runs in the background at bootstrap and stops retrying at shutdown', async () => {
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    sns.on(SubscribeCommand).callsFake(() => {
      firstAttempt();
      throw serverError();
    });
    const service = subscriptions({ attempts: 5, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 });
    let settled = false;

    service.onApplicationBootstrap();
    void service.startup?.then(() => (settled = true));
    await attempted;
    await Promise.resolve();
    expect(settled).toBe(false); // waiting an hour before the next attempt
    service.onApplicationShutdown();

    await expect(service.startup).resolves.toEqual([
      { topicArn: STREAM_TOPIC, outcome: 'failed', error: 'shut down' },
    ]);
    expect(sns.commandCalls(SubscribeCommand)).toHaveLength(1);
  });
});
