import http from 'node:http';
import { BridgeProcess } from '../../src/sandbox/bridge-process';
import type { ConnectEmulator } from '../../src/sandbox/emulator';
import { eventually } from '../../src/sandbox/eventually';
import { freePort } from '../../src/sandbox/ports';
import { emulatedBridgeEnv } from './env';
import { listenLocally, type LocalServer } from './local-server';
import type { ReceivedSnsEnvelope } from './sns';

export interface SnsCapture extends LocalServer {
  /** Every message SNS delivered, signed as sent, oldest first. */
  envelopes: ReceivedSnsEnvelope[];
}

/** A second subscriber of the emulator's topics that keeps what SNS sends and confirms itself. */
export async function startSnsCapture(
  emulator: ConnectEmulator,
  topicArns = [emulator.topicArn],
): Promise<SnsCapture> {
  const envelopes: ReceivedSnsEnvelope[] = [];
  const server = await listenLocally(
    http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const envelope = JSON.parse(body) as ReceivedSnsEnvelope;
        envelopes.push(envelope);
        if (envelope.Type === 'SubscriptionConfirmation') {
          emulator.sns.confirmSubscription(envelope.TopicArn, envelope.Token!);
        }
        res.writeHead(200).end();
      });
    }),
  );
  for (const topicArn of topicArns) emulator.sns.subscribe(topicArn, 'http', server.url);
  return { ...server, envelopes };
}

/**
 * The built bridge wired to the emulator, subscribed to its streaming topic at start
 * (SNS_SUBSCRIBE_ON_START): resolves once SNS holds the confirmed subscription.
 */
export async function startStreamingBridge(
  emulator: ConnectEmulator,
  overrides: Record<string, string>,
): Promise<BridgeProcess> {
  const port = await freePort();
  const bridge = await BridgeProcess.start(
    emulatedBridgeEnv(emulator, {
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      SNS_SUBSCRIBE_ON_START: 'true',
      LOG_LEVEL: 'warn',
      ...overrides,
    }),
  );
  await streamSubscribed(emulator, bridge.url);
  return bridge;
}

/** Resolves once SNS holds a confirmed subscription of `<baseUrl>/webhooks/connect` and is idle. */
export async function streamSubscribed(emulator: ConnectEmulator, baseUrl: string): Promise<void> {
  const endpoint = `${baseUrl}/webhooks/connect`;
  await eventually(
    `${endpoint} subscribed and confirmed`,
    () =>
      emulator.sns
        .subscriptionsOf(emulator.topicArn)
        .some((s) => s.endpoint === endpoint && s.status === 'confirmed'),
    30_000,
  );
  // The subscription is confirmed while SNS still waits for the answer to its confirmation.
  await emulator.sns.idle();
}
