import { AppConfig, ConfigError } from '../config';

const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'instance-1',
  CONNECT_CONTACT_FLOW_ID: 'flow-1',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
};

function problemsOf(env: Record<string, string>) {
  try {
    AppConfig.fromEnv({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => problem.variable);
    throw error;
  }
  return [];
}

describe('scheduler configuration', () => {
  it('defaults: refresh every minute, an hour ahead, one Connect call a second, no idle timeout', () => {
    expect(AppConfig.fromEnv(base).scheduler).toEqual({
      leaseMs: 30_000,
      connectCallsPerSecond: 1,
      credentialRefreshIntervalMs: 60_000,
      credentialRefreshAheadMs: 3_600_000,
      idleTimeoutMs: 0,
    });
  });

  it('reads seconds, fractional rates and fractional minutes', () => {
    const config = AppConfig.fromEnv({
      ...base,
      SCHEDULER_LEASE_SECONDS: '5',
      SCHEDULER_CONNECT_CALLS_PER_SECOND: '0.5',
      CREDENTIAL_REFRESH_INTERVAL_SECONDS: '1',
      CREDENTIAL_REFRESH_AHEAD_SECONDS: '600',
      IDLE_TIMEOUT_MINUTES: '0.5',
    });
    expect(config.scheduler).toEqual({
      leaseMs: 5_000,
      connectCallsPerSecond: 0.5,
      credentialRefreshIntervalMs: 1_000,
      credentialRefreshAheadMs: 600_000,
      idleTimeoutMs: 30_000,
    });
  });

  it('refuses values out of range', () => {
    expect(problemsOf({ SCHEDULER_LEASE_SECONDS: '1' })).toEqual(['SCHEDULER_LEASE_SECONDS']);
    expect(problemsOf({ SCHEDULER_CONNECT_CALLS_PER_SECOND: '0' })).toEqual([
      'SCHEDULER_CONNECT_CALLS_PER_SECOND',
    ]);
    expect(problemsOf({ CREDENTIAL_REFRESH_INTERVAL_SECONDS: '0' })).toEqual([
      'CREDENTIAL_REFRESH_INTERVAL_SECONDS',
    ]);
    // Connection tokens last a day: further ahead would refresh them on every run.
    expect(problemsOf({ CREDENTIAL_REFRESH_AHEAD_SECONDS: '86400' })).toEqual([
      'CREDENTIAL_REFRESH_AHEAD_SECONDS',
    ]);
    expect(problemsOf({ IDLE_TIMEOUT_MINUTES: '-1' })).toEqual(['IDLE_TIMEOUT_MINUTES']);
  });
});
