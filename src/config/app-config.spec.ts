import { AppConfig, ConfigError } from './app-config';

const base = {
  AWS_REGION: 'eu-west-2',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:connect-stream',
};

function problemsOf(env: Record<string, string | undefined>) {
  try {
    AppConfig.fromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('AppConfig.fromEnv', () => {
  it('types the environment and fills the defaults', () => {
    const config = AppConfig.fromEnv(base);
    expect(config.http).toEqual({
      port: 3000,
      publicBaseUrl: undefined,
      maxBodyBytes: 1_048_576,
      shutdownTimeoutMs: 25_000,
    });
    expect(config.redis).toMatchObject({
      url: 'redis://127.0.0.1:6379',
      topology: { kind: 'standalone' },
      keyPrefix: 'csb',
    });
    expect(config.connect).toEqual({
      instanceId: 'instance-1',
      contactFlowId: 'flow-1',
      streamingTopicArn: base.CONNECT_STREAMING_TOPIC_ARN,
    });
    expect(config.twilio).toBeUndefined();
    expect(config.whatsapp).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('reads numbers, trims values and treats empty strings as unset', () => {
    const config = AppConfig.fromEnv({
      ...base,
      PORT: ' 8080 ',
      MAX_BODY_BYTES: '2048',
      PUBLIC_BASE_URL: 'https://bridge.example.com/',
      ADMIN_API_TOKEN: '',
    });
    expect(config.http.port).toBe(8080);
    expect(config.http.maxBodyBytes).toBe(2048);
    expect(config.http.publicBaseUrl).toBe('https://bridge.example.com');
    expect(config.admin.apiToken).toBeUndefined();
  });

  it('names every missing required variable', () => {
    expect(problemsOf({})).toEqual(
      expect.arrayContaining(
        [
          'AWS_REGION',
          'CONNECT_INSTANCE_ID',
          'CONNECT_CONTACT_FLOW_ID',
          'CONNECT_STREAMING_TOPIC_ARN',
        ].map((variable) => ({ variable, message: 'is required' })),
      ),
    );
  });

  it.each([
    ['REDIS_URL', 'http://localhost:6379', 'must be a redis:// or rediss:// URL'],
    ['PORT', '70000', 'Too big'],
    ['PORT', 'abc', 'expected number'],
    ['LOG_LEVEL', 'verbose', 'Invalid option'],
    [
      'CONNECT_STREAMING_TOPIC_ARN',
      'arn:aws:sns:eu-west-2:123456789012:stream.fifo',
      'standard (not FIFO)',
    ],
    ['SNS_CERT_URL_PATTERN', '^https://(sns', 'valid regular expression'],
    ['TOKEN_ENCRYPTION_KEY', Buffer.alloc(16).toString('base64'), 'exactly 32 bytes'],
    ['TOKEN_ENCRYPTION_KEY', 'not base64!', 'must be base64'],
    ['TWILIO_ACCOUNT_SID', 'AC123', 'AC followed by 32 hex digits'],
    ['WHATSAPP_GRAPH_API_BASE_URL', 'graph.facebook.com', 'http(s) URL'],
    ['ADMIN_API_TOKEN', 'short', 'at least 16 characters'],
    ['REDIS_SENTINELS', 'sentinel-a', 'host:port'],
    ['PUBLIC_BASE_URL', 'ftp://example.com', 'http(s) URL'],
  ])('refuses %s=%p', (variable, value, message) => {
    const problems = problemsOf({ ...base, [variable]: value });
    expect(problems[0]).toEqual({ variable, message: expect.stringContaining(message) });
  });

  it('checks rules that span variables', () => {
    expect(problemsOf({ ...base, REDIS_SENTINELS: 'a:26379' })).toEqual([
      { variable: 'REDIS_SENTINEL_NAME', message: 'is required when REDIS_SENTINELS is set' },
    ]);
    expect(
      problemsOf({
        ...base,
        REDIS_SENTINELS: 'a:26379',
        REDIS_SENTINEL_NAME: 'm',
        REDIS_CLUSTER_NODES: 'b:7000',
      }),
    ).toEqual([
      { variable: 'REDIS_CLUSTER_NODES', message: 'cannot be combined with REDIS_SENTINELS' },
    ]);
    expect(problemsOf({ ...base, TWILIO_AUTH_TOKEN: 'x' })).toEqual([
      {
        variable: 'TWILIO_ACCOUNT_SID',
        message: 'is required when the other Twilio credential is set',
      },
    ]);
    expect(problemsOf({ ...base, WHATSAPP_APP_SECRET: 'x' }).map((p) => p.variable)).toEqual([
      'WHATSAPP_ACCESS_TOKEN',
      'WHATSAPP_VERIFY_TOKEN',
    ]);
  });

  it('builds the Redis topology from the Sentinel and Cluster variables', () => {
    expect(
      AppConfig.fromEnv({
        ...base,
        REDIS_SENTINELS: 's1:26379, s2:26380',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sp',
      }).redis.topology,
    ).toEqual({
      kind: 'sentinel',
      name: 'mymaster',
      sentinelPassword: 'sp',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    });
    expect(
      AppConfig.fromEnv({ ...base, REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' }).redis.topology,
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
    });
  });

  it('enables a channel only when its credentials are complete', () => {
    const config = AppConfig.fromEnv({
      ...base,
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:4010/',
      PUBLIC_BASE_URL: 'https://bridge.example.com',
      WHATSAPP_ACCESS_TOKEN: 'a',
      WHATSAPP_APP_SECRET: 'b',
      WHATSAPP_VERIFY_TOKEN: 'c',
    });
    expect(config.twilio).toEqual({
      accountSid: `AC${'a'.repeat(32)}`,
      authToken: 'token',
      apiBaseUrl: 'http://127.0.0.1:4010',
    });
    expect(config.whatsapp?.graphApiBaseUrl).toMatch(/^https:\/\/graph\.facebook\.com\/v\d+\.\d+$/);
    expect(() =>
      AppConfig.fromEnv({
        ...base,
        TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'token',
      }),
    ).toThrow('PUBLIC_BASE_URL is required by the Twilio channel');
  });

  it('decodes the token encryption key and compiles the certificate URL pattern', () => {
    const key = Buffer.alloc(32, 7);
    const config = AppConfig.fromEnv({ ...base, TOKEN_ENCRYPTION_KEY: key.toString('base64') });
    expect(config.tokenEncryptionKey?.equals(key)).toBe(true);
    const pattern = config.sns.certUrlPattern;
    expect(
      pattern.test('https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-abc123.pem'),
    ).toBe(true);
    expect(
      pattern.test('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc123.pem'),
    ).toBe(true);
    expect(
      pattern.test('http://sns.eu-west-2.amazonaws.com/SimpleNotificationService-abc123.pem'),
    ).toBe(false);
    expect(
      pattern.test('https://sns.eu-west-2.amazonaws.com.evil.com/SimpleNotificationService-a.pem'),
    ).toBe(false);
  });

  it('puts the variables, not their values, in the error message', () => {
    try {
      AppConfig.fromEnv({
        ...base,
        TWILIO_ACCOUNT_SID: 'ACnot-a-sid',
        TWILIO_AUTH_TOKEN: 'super-secret',
        PUBLIC_BASE_URL: 'https://bridge.example.com',
      });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        'invalid configuration: TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits',
      );
    }
  });
});
