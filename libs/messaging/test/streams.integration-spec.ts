import { PrivateNatsServer, testEnv, testStreamLimits, waitFor } from '@posthooks/testing';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, connect, DiscardPolicy, JetStreamManager, nanos, NatsConnection, RetentionPolicy, StorageType } from 'nats';
import { EventPublisher, NatsNaming, provisionStreams, StreamFull } from '../src';
import { loadEvent } from './harness';

const MiB = 1024 * 1024;
const limits = { LOADS: 2 * MiB, INGEST: 2 * MiB, NOTIFY: 2 * MiB, DELIVERIES: 2 * MiB, DEADLETTER: 2 * MiB };

/** The streams exactly as today's main (47f4b3b) provisioned them: limits retention, discard old, no byte limit. */
const TODAY: [string, string[], number][] = [
  ['LOADS', ['table.loaded', 'table.rejected'], 7],
  ['INGEST', ['ingest.records'], 7],
  ['NOTIFY', ['hook.undeliverable', 'hook.gone'], 7],
  ['DELIVERIES', ['delivery.requested', 'hook.test'], 7],
  ['REGISTRY', ['registry.>'], 0],
  ['DEADLETTER', ['deadletter.>'], 30],
];
/** Today's durable consumers, with the messages each had acknowledged. */
const CONSUMERS: { stream: string; durable: string; filter?: string; acked: number }[] = [
  { stream: 'LOADS', durable: 'dispatcher', acked: 40 },
  { stream: 'INGEST', durable: 'load-simulator', acked: 0 },
  { stream: 'NOTIFY', durable: 'email-notifier', filter: 'hook.undeliverable', acked: 5 },
  { stream: 'NOTIFY', durable: 'hook-registry', filter: 'hook.gone', acked: 0 },
  { stream: 'DELIVERIES', durable: 'dispatcher-deliveries', acked: 10 },
];
/** Messages published per subject. */
const PUBLISHED: Record<string, number> = {
  'table.loaded': 100,
  'ingest.records': 20,
  'hook.undeliverable': 10,
  'hook.gone': 5,
  'delivery.requested': 30,
  'registry.account.changed': 10,
  'deadletter.table.loaded': 3,
};

/** Builds a store as today's main leaves it: its streams, its consumers part-way through. */
async function storeOfTodaysMain(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  for (const [name, subjects, days] of TODAY) {
    await jsm.streams.add({ name, subjects, storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, max_age: nanos(days * 86_400_000), duplicate_window: nanos(120_000), num_replicas: 1 });
  }
  for (const c of CONSUMERS) await jsm.consumers.add(c.stream, { durable_name: c.durable, ack_policy: AckPolicy.Explicit, max_deliver: -1, ...(c.filter ? { filter_subject: c.filter } : {}) });
  for (const [subject, count] of Object.entries(PUBLISHED)) {
    for (let i = 0; i < count; i++) await js.publish(subject, JSON.stringify({ subject, i }), { msgID: `${subject}-${i}` });
  }
  for (const c of CONSUMERS) {
    if (c.acked === 0) continue;
    const messages = await (await js.consumers.get(c.stream, c.durable)).fetch({ max_messages: c.acked, expires: 5000 });
    let acked = 0;
    for await (const m of messages) {
      await m.ackAck();
      if (++acked === c.acked) break;
    }
    expect(acked).toBe(c.acked);
  }
}

/** Every message of a stream, as `<subject>-<i>` (their Nats-Msg-Id), in stream order. */
async function idsIn(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const info = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m) ids.push(m.header.get('Nats-Msg-Id'));
  }
  return ids;
}

const range = (subject: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${subject}-${from + i}`);

/** What the upgrade must leave: every message not consumed yet, and all of REGISTRY and DEADLETTER. */
const EXPECTED: Record<string, string[]> = {
  LOADS: range('table.loaded', 40, 100),
  INGEST: range('ingest.records', 0, 20),
  NOTIFY: [...range('hook.undeliverable', 5, 10), ...range('hook.gone', 0, 5)],
  DELIVERIES: range('delivery.requested', 10, 30),
  REGISTRY: range('registry.account.changed', 0, 10),
  DEADLETTER: range('deadletter.table.loaded', 0, 3),
};

async function expectUpgraded(jsm: JetStreamManager): Promise<void> {
  for (const [stream, ids] of Object.entries(EXPECTED)) expect({ stream, ids: (await idsIn(jsm, stream)).sort() }).toEqual({ stream, ids: [...ids].sort() });
  const streams: string[] = [];
  for await (const s of jsm.streams.list()) streams.push(s.config.name);
  // The upgrade lock's small bucket (1 MiB, keys live 10 s) stays for the next upgrade.
  expect(streams.sort()).toEqual(['DEADLETTER', 'DELIVERIES', 'INGEST', 'KV_STREAM_UPGRADES', 'LOADS', 'NOTIFY', 'REGISTRY']);
  for (const name of ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES']) {
    const { config } = await jsm.streams.info(name);
    expect({ name, retention: config.retention, discard: config.discard, max_bytes: config.max_bytes, sealed: config.sealed ?? false }).toEqual({ name, retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, max_bytes: 2 * MiB, sealed: false });
  }
  expect((await jsm.streams.info('INGEST')).config.subjects).toEqual(['ingest.records', 'ingest.records.>']);
  expect((await jsm.streams.info('DEADLETTER')).config).toMatchObject({ retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, max_bytes: 2 * MiB });
  expect((await jsm.streams.info('REGISTRY')).config).toMatchObject({ retention: RetentionPolicy.Limits, max_bytes: -1 });
}

describe('streams left by today\'s main, on their own nats-server', () => {
  let nats: PrivateNatsServer;
  let nc: NatsConnection;

  beforeEach(async () => {
    nats = await PrivateNatsServer.start();
    nc = await connect({ servers: nats.url });
    await storeOfTodaysMain(nc);
  });

  afterEach(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('are upgraded by two replicas starting at once, keeping every message not consumed yet', async () => {
    const jsm = await nc.jetstreamManager();
    const other = await connect({ servers: nats.url });
    try {
      await Promise.all([provisionStreams(jsm, new NatsNaming(), 1, limits), provisionStreams(await other.jetstreamManager(), new NatsNaming(), 1, limits)]);
    } finally {
      await other.close();
    }
    await expectUpgraded(jsm);

    // The dispatcher's consumer, created again as a service does at start, gets each of them.
    await jsm.consumers.add('LOADS', { durable_name: 'dispatcher', ack_policy: AckPolicy.Explicit });
    const got: string[] = [];
    const messages = await (await nc.jetstream().consumers.get('LOADS', 'dispatcher')).fetch({ max_messages: 100, expires: 2000 });
    for await (const m of messages) {
      got.push(m.headers!.get('Nats-Msg-Id'));
      await m.ackAck();
    }
    expect(got).toEqual(EXPECTED.LOADS);
    // Work-queue retention: an acknowledged message is gone, so the byte limit counts only work to do.
    await waitFor('LOADS to be empty', async () => (await jsm.streams.info('LOADS')).state.messages === 0);
    // Provisioning again changes nothing.
    await provisionStreams(jsm, new NatsNaming(), 1, limits);
    expect(await idsIn(jsm, 'NOTIFY')).toHaveLength(EXPECTED.NOTIFY.length);
  });

  it('loses nothing when the upgrading process is killed mid-way (kill -9), then started again', async () => {
    const built = join(__dirname, '..', '..', '..', 'dist', 'libs', 'messaging', 'src', 'index.js');
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    // The upgrade in its own process, killed once it has begun to set LOADS aside.
    const child = spawn(process.execPath, ['-e', `
      const { connect } = require('nats');
      const m = require(${JSON.stringify(built)});
      connect({ servers: ${JSON.stringify(nats.url)} }).then(async (nc) => m.provisionStreams(await nc.jetstreamManager(), new m.NatsNaming(), 1, ${JSON.stringify(limits)}));
    `], { stdio: 'ignore', cwd: join(__dirname, '..', '..', '..') });
    const jsm = await nc.jetstreamManager();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the upgrade to be under way', async () => (await jsm.streams.info('LOADS_UPGRADE').then((i) => i.state.messages > 0, () => false)) || (await jsm.streams.info('LOADS').then((i) => i.config.retention === RetentionPolicy.Workqueue, () => false)), { intervalMs: 1 });
    child.kill('SIGKILL');
    await exited;

    await provisionStreams(jsm, new NatsNaming(), 1, limits);
    await expectUpgraded(jsm);
  });
});

describe('a full work-queue stream', () => {
  it('refuses the publish with StreamFull, drops nothing, and takes publishes again once consumed', async () => {
    // Its own namespace (harness namespaces repeat across files run by one worker).
    const env = testEnv('messaging_stream_full');
    const nc = await connect({ servers: env.NATS_URL });
    const jsm = await nc.jetstreamManager();
    const naming = new NatsNaming(env.NATS_NAMESPACE);
    try {
      // The smallest limits a service accepts (1 MiB), for this test's own namespace.
      const small = { ...testStreamLimits(), LOADS: MiB };
      await provisionStreams(jsm, naming, 1, small);
      const publisher = new EventPublisher(nc.jetstream(), naming);
      const stored: string[] = [];
      let refused: unknown;
      for (let i = 0; refused === undefined && i < 1000; i++) {
        await publisher.publish('table.loaded', loadEvent('orders', { event_id: `e${i}`, bookmark_metadata: { pad: 'x'.repeat(16 * 1024) } }), { msgId: `e${i}` }).then(
          () => stored.push(`e${i}`),
          (err: unknown) => (refused = err),
        );
      }
      expect(refused).toBeInstanceOf(StreamFull);
      expect((refused as StreamFull).reason).toMatch(/maximum bytes exceeded/);
      expect(stored.length).toBeGreaterThan(50);

      // Every acknowledged publish is still there, oldest first.
      const stream = naming.stream('LOADS');
      await jsm.consumers.add(stream, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
      const consumer = await nc.jetstream().consumers.get(stream, 'reader');
      const read: string[] = [];
      for (let fetches = 0; read.length < stored.length && fetches < 50; fetches++) {
        for await (const m of await consumer.fetch({ max_messages: 100, expires: 1000 })) {
          read.push(m.json<{ event_id: string }>().event_id);
          await m.ackAck();
        }
      }
      expect(read).toEqual(stored);
      await publisher.publish('table.loaded', loadEvent('orders', { event_id: 'after' }), { msgId: 'after' });
    } finally {
      await nc.close();
    }
  });
});
