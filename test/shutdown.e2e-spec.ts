import { BridgeProcess } from '../src/sandbox/bridge-process';
import { eventually } from '../src/sandbox/eventually';
import { ConnectEmulator } from '../src/sandbox/emulator';
import { sendGenericMessage } from '../src/sandbox/generic-customer';
import { emulatedBridgeEnv } from './support/env';

const SECRET = 'generic-webhook-secret-for-tests';

describe('graceful shutdown with a message in flight', () => {
  let emulator: ConnectEmulator;

  beforeEach(async () => {
    emulator = await ConnectEmulator.start();
  });

  afterEach(async () => {
    await emulator.close();
  });

  /** A bridge with one customer message whose SendMessage takes `latencyMs` at Connect. */
  async function bridgeWithSlowMessage(latencyMs: number, shutdownTimeoutMs: number) {
    emulator.faults.configure({
      seed: 1,
      operations: { SendMessage: { latencyMs } },
      sns: { dropRate: 0, duplicateRate: 0 },
    });
    const bridge = await BridgeProcess.start(
      emulatedBridgeEnv(emulator, {
        REDIS_KEY_PREFIX: `shutdown${Math.random().toString(36).slice(2, 8)}`,
        GENERIC_WEBHOOK_SECRET: SECRET,
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      }),
    );
    const res = await sendGenericMessage(bridge.url, SECRET, {
      messageId: 'slow-1',
      from: '+15550001111',
      to: '+15559990000',
      text: 'slow',
    });
    expect(res.status).toBe(200);
    // The worker has the job once the contact is being started.
    await eventually(
      'the job is active',
      () => emulator.requests('StartChatContact').length > 0,
      10_000,
    );
    return bridge;
  }

  const delivered = () =>
    emulator.center
      .list()
      .flatMap((contact) => contact.transcript)
      .filter((item) => item.Content === 'slow');

  it('lets the job in flight finish, then exits 0', async () => {
    const bridge = await bridgeWithSlowMessage(1_500, 10_000);
    const exit = await bridge.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(delivered()).toHaveLength(1);
    expect(bridge.logs.some((line) => line.msg === 'shut down cleanly')).toBe(true);
  });

  it('gives up after SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    const bridge = await bridgeWithSlowMessage(5_000, 500);
    const exit = await bridge.stop('SIGTERM');
    expect(exit.code).toBe(1);
    expect(bridge.logs.some((line) => line.msg === 'shutdown timed out')).toBe(true);
  });
});
