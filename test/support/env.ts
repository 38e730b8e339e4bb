import type { ConnectEmulator } from '../../src/sandbox/emulator';

/** The bridge's environment wired to a Connect emulator. */
export function emulatedBridgeEnv(
  emulator: ConnectEmulator,
  overrides: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return bridgeEnv({ ...emulator.bridgeEnvironment(), ...overrides });
}

/** Nothing listens on the discard port: AWS calls of a suite without an emulator fail at once. */
const NOWHERE = 'http://127.0.0.1:9';

/**
 * The least environment the bridge starts with; suites add or override variables. AWS is never
 * reached from a test: static credentials, no instance metadata, endpoints on this machine.
 */
export function bridgeEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LOG_LEVEL: 'info',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_CONNECT: NOWHERE,
    AWS_ENDPOINT_URL_CONNECTPARTICIPANT: NOWHERE,
    AWS_ENDPOINT_URL_SNS: NOWHERE,
    CONNECT_INSTANCE_ID: '11111111-2222-3333-4444-555555555555',
    CONNECT_CONTACT_FLOW_ID: '66666666-7777-8888-9999-000000000000',
    CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:connect-stream',
    REDIS_URL: process.env.TEST_REDIS_URL,
    ...overrides,
  };
}

export function sharedRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url)
    throw new Error('TEST_REDIS_URL is not set: run the e2e suites through jest (global setup)');
  return url;
}
