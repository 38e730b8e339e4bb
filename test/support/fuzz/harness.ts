import { Redis } from 'ioredis';
import http from 'node:http';
import { BridgeProcess } from '../../../src/sandbox/bridge-process';
import { MessageSigner } from '../../../src/sandbox/emulator/sns/signer';
import { freePort } from '../../../src/sandbox/ports';
import { bridgeEnv, sharedRedisUrl } from '../env';
import { listenLocally, type LocalServer } from '../local-server';

/** Secrets of the fuzzed bridge: what a genuine provider would sign with. */
export const FUZZ_SECRETS = {
  twilioAccountSid: `AC${'f00dcafe'.repeat(4)}`,
  twilioAuthToken: 'fuzz-twilio-auth-token',
  whatsappAccessToken: 'fuzz-whatsapp-access-token',
  whatsappAppSecret: 'fuzz-whatsapp-app-secret',
  whatsappVerifyToken: 'fuzz-whatsapp-verify-token',
  genericWebhookSecret: 'fuzz-generic-webhook-secret',
  adminApiToken: 'fuzz-admin-api-token-0123456789',
};

/** Small, so that oversized bodies stay cheap to send thousands of times. */
export const MAX_BODY_BYTES = 64 * 1024;
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:connect-stream';
/** Nothing listens there: the bridge never reaches a provider or AWS from this suite. */
const NOWHERE = 'http://127.0.0.1:9';

export interface FuzzTarget {
  bridge: BridgeProcess;
  baseUrl: string;
  /** The URL Twilio would call: PUBLIC_BASE_URL. */
  publicBaseUrl: string;
  keyPrefix: string;
  /** Signs SNS envelopes with the key of the certificate the bridge trusts. */
  snsSigner: MessageSigner;
  /** A key the bridge has never seen. */
  otherSigner: MessageSigner;
  certificateUrl: string;
  redis: Redis;
  close: () => Promise<void>;
}

/**
 * The built bridge with every channel and the admin API on, its own Redis key prefix on the
 * shared redis-server, and a local server of SNS signing certificates that it trusts
 * (SNS_CERT_URL_PATTERN), so that the suite signs SNS envelopes as SNS does.
 */
export async function startFuzzTarget(): Promise<FuzzTarget> {
  const [snsSigner, otherSigner] = await Promise.all([
    MessageSigner.create(),
    MessageSigner.create(),
  ]);
  const certPath = `/SimpleNotificationService-${snsSigner.certificateId}.pem`;
  const certServer: LocalServer = await listenLocally(
    http.createServer((req, res) => {
      if (req.url === certPath) {
        res.writeHead(200, { 'content-type': 'application/x-pem-file' });
        res.end(snsSigner.certificatePem);
        return;
      }
      res.writeHead(404).end();
    }),
  );
  const port = await freePort();
  const publicBaseUrl = `http://127.0.0.1:${port}`;
  const keyPrefix = `fuzz-${process.pid}`;
  let bridge: BridgeProcess;
  try {
    bridge = await startBridge(port, publicBaseUrl, keyPrefix, certServer.url);
  } catch (error) {
    // Nothing may stay open, or jest never ends.
    await certServer.close();
    throw error;
  }
  const redis = new Redis(sharedRedisUrl());
  return {
    bridge,
    baseUrl: bridge.url,
    publicBaseUrl,
    keyPrefix,
    snsSigner,
    otherSigner,
    certificateUrl: `${certServer.url}${certPath}`,
    redis,
    close: async () => {
      await bridge.stop('SIGTERM');
      redis.disconnect();
      await certServer.close();
    },
  };
}

function startBridge(
  port: number,
  publicBaseUrl: string,
  keyPrefix: string,
  certServerUrl: string,
): Promise<BridgeProcess> {
  return BridgeProcess.start(
    bridgeEnv({
      PORT: String(port),
      PUBLIC_BASE_URL: publicBaseUrl,
      LOG_LEVEL: 'error',
      REDIS_URL: sharedRedisUrl(),
      REDIS_KEY_PREFIX: keyPrefix,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      CONNECT_STREAMING_TOPIC_ARN: TOPIC_ARN,
      SNS_CERT_URL_PATTERN: `^${certServerUrl.replace(/[.]/g, '\\.')}/SimpleNotificationService-[A-Za-z0-9]+\\.pem$`,
      TWILIO_ACCOUNT_SID: FUZZ_SECRETS.twilioAccountSid,
      TWILIO_AUTH_TOKEN: FUZZ_SECRETS.twilioAuthToken,
      TWILIO_API_BASE_URL: NOWHERE,
      WHATSAPP_ACCESS_TOKEN: FUZZ_SECRETS.whatsappAccessToken,
      WHATSAPP_APP_SECRET: FUZZ_SECRETS.whatsappAppSecret,
      WHATSAPP_VERIFY_TOKEN: FUZZ_SECRETS.whatsappVerifyToken,
      WHATSAPP_GRAPH_API_BASE_URL: NOWHERE,
      GENERIC_WEBHOOK_SECRET: FUZZ_SECRETS.genericWebhookSecret,
      GENERIC_CALLBACK_URL: `${NOWHERE}/callback`,
      ADMIN_API_TOKEN: FUZZ_SECRETS.adminApiToken,
    }),
  );
}

/** What a stored message would change: the relay and conversation keys, and the queue counts. */
export interface StoredState {
  relayKeys: string[];
  conversationKeys: string[];
  queues: { queue: string; paused: boolean; counts: Record<string, number> }[];
}

async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [nextCursor, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = nextCursor;
  } while (cursor !== '0');
  return keys.sort();
}

export async function storedState(target: FuzzTarget): Promise<StoredState> {
  const prefix = `{${target.keyPrefix}}`;
  const res = await fetch(`${target.baseUrl}/admin/jobs`, {
    headers: { authorization: `Bearer ${FUZZ_SECRETS.adminApiToken}` },
  });
  if (res.status !== 200) throw new Error(`GET /admin/jobs answered ${res.status}`);
  const { queues } = (await res.json()) as StoredState;
  return {
    relayKeys: await keysMatching(target.redis, `${prefix}:relay:*`),
    conversationKeys: await keysMatching(target.redis, `${prefix}:conv:*`),
    queues: queues.sort((a, b) => a.queue.localeCompare(b.queue)),
  };
}

export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
}

/** The bridge's own view of its memory, from /metrics. */
export async function memoryOf(target: FuzzTarget): Promise<MemoryReading> {
  const text = await (await fetch(`${target.baseUrl}/metrics`)).text();
  const metric = (name: string) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return {
    rssBytes: metric('process_resident_memory_bytes'),
    heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
  };
}
