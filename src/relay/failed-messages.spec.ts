import { once } from 'node:events';
import { Queue } from 'bullmq';
import { AppConfig } from '../config';
import { RedisConnections, RedisKeys } from '../redis';
import { eventually } from '../sandbox/eventually';
import { RedisServer } from '../sandbox/redis-server';
import { FailedMessages } from './failed-messages';
import { InboundLanes } from './inbound-lanes';
import type { InboundMessage } from './inbound-message';
import { enqueueInLane } from './lane-intake';
import { type LaneJob, LaneWorker } from './lane-worker';
import { OutboundLanes } from './outbound-lanes';

class Refused extends Error {}

/**
 * Delivers by recording. A message in `held` waits for its promise; one in `outages` meets that
 * many passing failures first; one in `refused` is refused for good.
 */
class RecordingWorker extends LaneWorker<InboundMessage> {
  readonly delivered: string[] = [];
  readonly held = new Map<string, Promise<void>>();
  readonly outages = new Map<string, number>();
  readonly refused = new Set<string>();

  constructor(connections: RedisConnections, keys: RedisKeys, lanes: InboundLanes, queue: Queue) {
    super(connections, keys, lanes, {
      queue,
      concurrency: 5,
      holdMs: () => 0,
      lockMs: 30_000,
      jobOptions: jobOptions,
    });
  }

  async deliver(job: LaneJob): Promise<void> {
    await this.held.get(job.messageId);
    const outages = this.outages.get(job.messageId) ?? 0;
    if (outages > 0) {
      this.outages.set(job.messageId, outages - 1);
      throw new Error('Connect is away');
    }
    if (this.refused.has(job.messageId)) throw new Refused(`refused ${job.messageId}`);
    this.delivered.push(job.messageId);
  }

  isPermanent(error: unknown): boolean {
    return error instanceof Refused;
  }

  recordRetry(): Promise<void> {
    return Promise.resolve();
  }

  recordFailure(): Promise<void> {
    return Promise.resolve();
  }
}

const jobOptions = (messageId: string) => ({
  jobId: messageId,
  attempts: 3,
  backoff: { type: 'fixed', delay: 50 },
  removeOnComplete: true,
  removeOnFail: { age: 3600 },
});

const CONVERSATION = 'conversation-1';

/** The request and producer connections have no offline queue: commands before ready fail. */
async function connected(config: AppConfig): Promise<RedisConnections> {
  const connections = new RedisConnections(config);
  for (const client of [connections.client, connections.producer]) {
    if (client.status !== 'ready') await once(client, 'ready');
  }
  return connections;
}

function payload(id: string): InboundMessage {
  return {
    channel: 'generic:app',
    customerAddress: '+15550001111',
    businessAddress: '+15559990000',
    providerMessageId: id,
    text: `text of ${id}`,
    attachments: [],
    receivedAt: 0,
  };
}

describe('FailedMessages', () => {
  let redis: RedisServer;
  let connections: RedisConnections;
  let keys: RedisKeys;
  let lanes: InboundLanes;
  let queue: Queue<LaneJob>;
  let worker: RecordingWorker;
  let failed: FailedMessages;
  let prefix = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis.destroy();
  });

  beforeEach(async () => {
    const config = AppConfig.fromEnv({
      AWS_REGION: 'us-east-1',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `failed${(prefix += 1)}`,
    });
    connections = await connected(config);
    keys = new RedisKeys(config);
    lanes = new InboundLanes(connections, keys);
    queue = new Queue<LaneJob>('inbound', {
      connection: connections.producer,
      prefix: keys.prefix,
    });
    worker = new RecordingWorker(connections, keys, lanes, queue);
    worker.onModuleInit();
    const unused = {} as Queue<LaneJob>;
    failed = new FailedMessages(lanes, new OutboundLanes(connections, keys), queue, unused);
  });

  afterEach(async () => {
    await worker.beforeApplicationShutdown();
    await queue.close();
    await connections.onApplicationShutdown();
  });

  const send = (id: string) =>
    enqueueInLane(
      lanes,
      queue,
      jobOptions(id),
      { messageId: id, conversationId: CONVERSATION },
      payload(id),
    );
  const statusOf = async (id: string) => (await lanes.read(CONVERSATION, id)).status;
  const stateOf = (id: string) => queue.getJobState(id);
  const failedFor = (id: string) =>
    eventually(`${id} failed`, async () => (await stateOf(id)) === 'failed', 10_000);
  const deliveredAll = (ids: string[]) =>
    eventually(
      `${ids.join(', ')} delivered`,
      () => ids.every((id) => worker.delivered.includes(id)),
      10_000,
    );

  it('keeps a failed message for a retry, which delivers it once while later messages go on', async () => {
    worker.refused.add('m1');
    await send('m1');
    await send('m2');
    await failedFor('m1');
    await deliveredAll(['m2']);
    expect(await statusOf('m1')).toBe('failed');
    expect((await lanes.message('m1'))?.payload).toEqual(payload('m1'));

    const listed = await failed.list('inbound', 0, 10);
    expect(listed.total).toBe(1);
    expect(listed.messages).toEqual([
      expect.objectContaining({
        jobId: 'm1',
        messageId: 'm1',
        conversationId: CONVERSATION,
        failedReason: 'refused m1',
        attemptsMade: 1,
        payload: payload('m1'),
      }),
    ]);

    worker.refused.delete('m1');
    expect(await failed.retry('inbound', 'm1')).toBe('retried');
    await deliveredAll(['m1']);
    await send('m3');
    await deliveredAll(['m3']);
    expect(worker.delivered).toEqual(['m2', 'm1', 'm3']);
    expect(await statusOf('m1')).toBe('delivered');
    expect(await lanes.message('m1')).toBeUndefined();
    expect(await lanes.head(CONVERSATION)).toBeNull();
    expect(await failed.retry('inbound', 'm1')).toBe('no-such-job');
  });

  it('puts a retried message behind the message in flight, never in front of it', async () => {
    worker.refused.add('m1');
    await send('m1');
    await failedFor('m1');
    worker.refused.delete('m1');
    let release = () => {};
    worker.held.set('m2', new Promise<void>((resolve) => (release = resolve)));
    await send('m2');
    await eventually('m2 in flight', async () => (await stateOf('m2')) === 'active', 10_000);

    expect(await failed.retry('inbound', 'm1')).toBe('retried');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.delivered).toEqual([]);
    release();
    await deliveredAll(['m2', 'm1']);
    expect(worker.delivered).toEqual(['m2', 'm1']);
  });

  it('renews the attempts of a message that had used them all', async () => {
    worker.outages.set('m1', 3);
    await send('m1');
    await failedFor('m1');
    expect((await queue.getJob('m1'))?.attemptsMade).toBe(3);

    worker.outages.set('m1', 2);
    expect(await failed.retry('inbound', 'm1')).toBe('retried');
    await deliveredAll(['m1']);
    expect(worker.outages.get('m1')).toBe(0);
  });

  it('discards a failed message for good: no job, no payload, a redelivery is a duplicate', async () => {
    worker.refused.add('m1');
    await send('m1');
    await failedFor('m1');

    expect(await failed.discard('inbound', 'm1')).toBe('discarded');
    expect(await queue.getJob('m1')).toBeUndefined();
    expect(await statusOf('m1')).toBe('discarded');
    expect(await lanes.message('m1')).toBeUndefined();
    expect(await send('m1')).toBe('discarded');
    expect((await failed.list('inbound', 0, 10)).total).toBe(0);
    expect(await failed.retry('inbound', 'm1')).toBe('no-such-job');

    worker.refused.delete('m1');
    await send('m2');
    await deliveredAll(['m2']);
    expect(worker.delivered).toEqual(['m2']);
  });

  it('touches only failed jobs, and refuses a retry once the message has expired', async () => {
    await queue.pause();
    await send('m1');
    expect(await failed.retry('inbound', 'm1')).toBe('not-failed');
    expect(await failed.discard('inbound', 'm1')).toBe('not-failed');
    expect(await statusOf('m1')).toBe('pending');
    await queue.resume();
    await deliveredAll(['m1']);

    worker.refused.add('m2');
    await send('m2');
    await failedFor('m2');
    await connections.client.del(keys.key('relay', 'in', 'm2'));
    expect(await failed.retry('inbound', 'm2')).toBe('expired');
    expect(await stateOf('m2')).toBe('failed');
    expect(await lanes.head(CONVERSATION)).toBeNull();
  });
});

describe('ConversationLanes', () => {
  let redis: RedisServer;
  let connections: RedisConnections;
  let lanes: OutboundLanes;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const config = AppConfig.fromEnv({
      AWS_REGION: 'us-east-1',
      CONNECT_INSTANCE_ID: 'instance-1',
      CONNECT_CONTACT_FLOW_ID: 'flow-1',
      CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:stream',
      REDIS_URL: redis.url,
    });
    connections = await connected(config);
    lanes = new OutboundLanes(connections, new RedisKeys(config));
  });

  afterAll(async () => {
    await connections.onApplicationShutdown();
    await redis.destroy();
  });

  const item = (itemId: string) => ({
    kind: 'message' as const,
    itemId,
    contactId: 'contact-1',
    text: itemId,
    contentType: 'text/plain',
    attachments: [],
  });
  const lane = (conversationId: string) =>
    connections.client.zrange(`{csb}:relay:out-lane:${conversationId}`, 0, -1);
  const record = (itemId: string) => connections.client.hgetall(`{csb}:relay:out:${itemId}`);

  it('reads a message, its status and its lane head together', async () => {
    await lanes.accept('r1', 'out-r', item('r1'), 1_000);
    await lanes.accept('r2', 'out-r', item('r2'), 2_000);
    expect(await lanes.read('out-r', 'r2')).toEqual({
      status: 'pending',
      message: { payload: item('r2'), acceptedAt: expect.any(Number), partsDone: 0 },
      head: 'r1',
    });
    await lanes.settle('out-r', 'r1', 'delivered');
    expect(await lanes.read('out-r', 'r1')).toEqual({ status: 'delivered', head: 'r2' });
    await lanes.settle('out-r', 'r2', 'delivered');
    expect(await lanes.read('out-r', 'never-seen')).toEqual({ head: null });
  });

  it('keeps only the status of a delivered or discarded item, which still makes it a duplicate', async () => {
    // A payload past hash-max-listpack-value turns the record into a full hash table.
    const long = (itemId: string) => ({ ...item(itemId), text: 'x'.repeat(200) });
    const key = (itemId: string) => `{csb}:relay:out:${itemId}`;
    const compact = async (itemId: string) => {
      expect(await connections.client.object('ENCODING', key(itemId))).toBe('listpack');
      expect(await connections.client.ttl(key(itemId))).toBeGreaterThan(7 * 24 * 3600 - 60);
    };

    await lanes.accept('g', 'out-4', long('g'), 1_000);
    expect(await connections.client.object('ENCODING', key('g'))).toBe('hashtable');
    await lanes.settle('out-4', 'g', 'delivered');
    expect(await record('g')).toEqual({ s: 'delivered' });
    await compact('g');
    expect(await lanes.accept('g', 'out-4', long('g'), 1_000)).toBe('delivered');

    await lanes.accept('h', 'out-4', long('h'), 2_000);
    await lanes.settle('out-4', 'h', 'failed');
    expect(Object.keys(await record('h')).sort()).toEqual(['a', 'c', 'm', 's']);
    expect(await lanes.discard('out-4', 'h')).toBe('discarded');
    expect(await record('h')).toEqual({ s: 'discarded' });
    await compact('h');
    expect(await lanes.accept('h', 'out-4', long('h'), 2_000)).toBe('discarded');
    expect(await lane('out-4')).toEqual([]);
  });

  it('puts an AbsoluteTime-ordered item back after the last one in its lane, whatever its time', async () => {
    for (const [id, at] of [
      ['a', 1_000],
      ['b', 2_000],
      ['c', 3_000],
    ] as const) {
      await lanes.accept(id, 'out-1', item(id), at);
    }
    await lanes.settle('out-1', 'a', 'failed');
    expect(await lanes.requeue('out-1', 'a')).toBe('pending');
    expect(await lane('out-1')).toEqual(['b', 'c', 'a']);
    expect(await lanes.requeue('out-1', 'a')).toBe('pending');
    expect(await lane('out-1')).toEqual(['b', 'c', 'a']);

    await lanes.accept('d', 'out-2', item('d'), 5_000);
    await lanes.settle('out-2', 'd', 'failed');
    expect(await lane('out-2')).toEqual([]);
    expect(await lanes.requeue('out-2', 'd')).toBe('pending');
    expect(await lanes.head('out-2')).toBe('d');
    expect((await lanes.message('d'))?.payload).toEqual(item('d'));
  });

  it('brings back neither a delivered nor a discarded item', async () => {
    await lanes.accept('e', 'out-3', item('e'), 1_000);
    await lanes.settle('out-3', 'e', 'delivered');
    expect(await lanes.requeue('out-3', 'e')).toBe('delivered');
    expect(await lanes.discard('out-3', 'e')).toBe('delivered');
    await lanes.accept('f', 'out-3', item('f'), 2_000);
    await lanes.settle('out-3', 'f', 'failed');
    expect(await lanes.discard('out-3', 'f')).toBe('discarded');
    expect(await lanes.requeue('out-3', 'f')).toBe('discarded');
    expect(await lanes.requeue('out-3', 'never-seen')).toBe('gone');
    expect(await lane('out-3')).toEqual([]);
  });
});
