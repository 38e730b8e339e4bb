import { BridgeProcess } from '../src/sandbox/bridge-process';
import { bridgeEnv } from './support/env';

describe('start-up and shutdown of the process', () => {
  async function exitOf(env: NodeJS.ProcessEnv) {
    const bridge = await BridgeProcess.spawn(env);
    const exit = await bridge.exited;
    const fatal = bridge.logs.find((line) => line.level === 'fatal');
    return { exit, fatal, bridge };
  }

  it('exits 1 naming CONNECT_INSTANCE_ID when it is missing', async () => {
    const { exit, fatal } = await exitOf(bridgeEnv({ CONNECT_INSTANCE_ID: undefined }));
    expect(exit.code).toBe(1);
    expect(fatal?.msg).toContain('CONNECT_INSTANCE_ID is required');
    expect(fatal?.problems).toEqual([{ variable: 'CONNECT_INSTANCE_ID', message: 'is required' }]);
  });

  it.each(['http://127.0.0.1:6379', 'not a url', 'redis://'])(
    'exits 1 naming REDIS_URL when it is %p',
    async (url) => {
      const { exit, fatal } = await exitOf(bridgeEnv({ REDIS_URL: url }));
      expect(exit.code).toBe(1);
      expect(fatal?.msg).toContain('REDIS_URL');
    },
  );

  it('never echoes a bad secret value in its complaint', async () => {
    const { exit, bridge } = await exitOf(
      bridgeEnv({
        TOKEN_ENCRYPTION_KEY: 'c2hvcnQta2V5LXZhbHVl',
        TWILIO_AUTH_TOKEN: 'tw-secret-value',
      }),
    );
    expect(exit.code).toBe(1);
    const output = bridge.output();
    expect(output).toContain('TOKEN_ENCRYPTION_KEY must decode to exactly 32 bytes');
    expect(output).toContain(
      'TWILIO_ACCOUNT_SID is required when the other Twilio credential is set',
    );
    expect(output).not.toContain('c2hvcnQta2V5LXZhbHVl');
    expect(output).not.toContain('tw-secret-value');
  });

  it('on SIGTERM closes cleanly and exits 0', async () => {
    const bridge = await BridgeProcess.start(bridgeEnv({ SHUTDOWN_TIMEOUT_MS: '10000' }));
    expect((await fetch(`${bridge.url}/health/live`)).status).toBe(200);
    const exit = await bridge.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(bridge.logs.some((line) => line.msg === 'shut down cleanly')).toBe(true);
    expect(bridge.rawOutput).toEqual([]);
  });
});
