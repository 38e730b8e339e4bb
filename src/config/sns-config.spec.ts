import { AppConfig, ConfigError } from './app-config';

const STREAM_TOPIC = 'arn:aws:sns:eu-west-2:123456789012:connect-stream';
const OLDER_TOPIC = 'arn:aws:sns:eu-west-2:123456789012:older-stream';
const base = {
  AWS_REGION: 'eu-west-2',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: STREAM_TOPIC,
};

function problemsOf(env: Record<string, string>) {
  try {
    AppConfig.fromEnv({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the configuration of the SNS endpoint', () => {
  it('allows the streaming topic and subscribes nothing by default', () => {
    expect(AppConfig.fromEnv(base).sns).toMatchObject({
      topicArns: [STREAM_TOPIC],
      subscribeOnStart: false,
    });
  });

  it('reads SNS_TOPIC_ARNS as a comma-separated list, without repeats', () => {
    const config = AppConfig.fromEnv({
      ...base,
      SNS_TOPIC_ARNS: ` ${OLDER_TOPIC} , ${STREAM_TOPIC},${OLDER_TOPIC}`,
    });
    expect(config.sns.topicArns).toEqual([OLDER_TOPIC, STREAM_TOPIC]);
  });

  it.each([
    [`${STREAM_TOPIC},${OLDER_TOPIC}.fifo`, 'standard (not FIFO) SNS topic ARNs'],
    [`${STREAM_TOPIC},`, 'standard (not FIFO) SNS topic ARNs'],
    [OLDER_TOPIC, 'must include CONNECT_STREAMING_TOPIC_ARN'],
  ])('refuses SNS_TOPIC_ARNS=%p', (value, message) => {
    expect(problemsOf({ SNS_TOPIC_ARNS: value })).toEqual([
      { variable: 'SNS_TOPIC_ARNS', message: expect.stringContaining(message) },
    ]);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['false', false],
  ])('reads SNS_SUBSCRIBE_ON_START=%p', (value, expected) => {
    const config = AppConfig.fromEnv({
      ...base,
      SNS_SUBSCRIBE_ON_START: value,
      PUBLIC_BASE_URL: 'https://bridge.example.com',
    });
    expect(config.sns.subscribeOnStart).toBe(expected);
  });

  it('refuses an SNS_SUBSCRIBE_ON_START that is not a boolean', () => {
    expect(problemsOf({ SNS_SUBSCRIBE_ON_START: 'sometimes' })).toEqual([
      { variable: 'SNS_SUBSCRIBE_ON_START', message: 'must be true or false' },
    ]);
  });

  it('needs PUBLIC_BASE_URL to subscribe on start', () => {
    expect(problemsOf({ SNS_SUBSCRIBE_ON_START: 'true' })).toEqual([
      { variable: 'PUBLIC_BASE_URL', message: 'is required when SNS_SUBSCRIBE_ON_START is true' },
    ]);
  });
});
