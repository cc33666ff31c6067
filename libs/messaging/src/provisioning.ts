import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { StreamName, Streams } from '@posthooks/contracts';
import { AckPolicy, ConsumerConfig, ErrorCode, NatsError, DeliverPolicy, DiscardPolicy, headers as natsHeaders, JetStreamManager, nanos, RetentionPolicy, StorageType, StoredMsg, StreamConfig, StreamInfo } from 'nats';
import { NatsNaming } from './naming';
import { streamFullOf } from './publisher';
import { ConsumerProgress, firstSeqToCopy, mustCarryOver, nextProvisionStep, safeMaxBytes } from './stream-upgrade';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Streams with a byte limit: all but REGISTRY, which every service's view is rebuilt from. */
export type CappedStream = Exclude<StreamName, 'REGISTRY'>;
export type StreamByteLimits = Record<CappedStream, number>;

/** The STREAM_MAX_BYTES_<STREAM> settings (libs/config's ServiceEnv) as limits. */
export function streamByteLimits(env: { [K in `STREAM_MAX_BYTES_${CappedStream}`]: number }): StreamByteLimits {
  return {
    LOADS: env.STREAM_MAX_BYTES_LOADS,
    INGEST: env.STREAM_MAX_BYTES_INGEST,
    NOTIFY: env.STREAM_MAX_BYTES_NOTIFY,
    DELIVERIES: env.STREAM_MAX_BYTES_DELIVERIES,
    DEADLETTER: env.STREAM_MAX_BYTES_DEADLETTER,
  };
}

/**
 * How each stream keeps messages.
 *
 * LOADS, INGEST, NOTIFY and DELIVERIES are work queues: a message is removed once its
 * consumer acknowledges it, so their byte limit counts only work not done yet, and with
 * `discard: new` a full stream refuses a publish (the publisher answers 503 or retries)
 * instead of dropping a stored message. Work-queue rather than interest retention: an
 * interest stream drops what is published while no consumer exists yet (a dispatcher not
 * started, a test reading a stream without its consumer), a work queue keeps it until
 * some consumer takes it. What a work queue refuses (two consumers reading the same
 * subject) nothing here does: each stream has one durable consumer per subject (LOADS:
 * dispatcher; INGEST: load-simulator; DELIVERIES: dispatcher-deliveries; NOTIFY:
 * email-notifier on hook.undeliverable, hook-registry on hook.gone). The price: a
 * handled message cannot be replayed from the stream (dead letters can, from DEADLETTER).
 *
 * DEADLETTER keeps 30 days within its byte limit, dropping its oldest first: it is the
 * only stream that does. REGISTRY keeps everything (no age, no byte limit).
 */
const RETENTION: Record<StreamName, { retention: RetentionPolicy; discard: DiscardPolicy; maxAgeMs: number }> = {
  LOADS: { retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, maxAgeMs: 7 * DAY_MS },
  INGEST: { retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, maxAgeMs: 7 * DAY_MS },
  NOTIFY: { retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, maxAgeMs: 7 * DAY_MS },
  DELIVERIES: { retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, maxAgeMs: 7 * DAY_MS },
  REGISTRY: { retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, maxAgeMs: 0 },
  DEADLETTER: { retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, maxAgeMs: 30 * DAY_MS },
};

/** A stream's wanted config: what provisioning reads of it is always set. */
export type WantedStream = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'retention' | 'discard' | 'max_bytes'>;

export function streamConfig(stream: StreamName, naming: NatsNaming, replicas: number, limits: StreamByteLimits): WantedStream {
  const { retention, discard, maxAgeMs } = RETENTION[stream];
  return {
    name: naming.stream(Streams[stream].name),
    subjects: Streams[stream].subjects.map((s) => naming.subject(s)),
    storage: StorageType.File,
    retention,
    discard,
    max_age: nanos(maxAgeMs),
    max_bytes: stream === 'REGISTRY' ? -1 : limits[stream],
    // Nats-Msg-Id de-duplication window: a publisher retrying within it is stored once.
    duplicate_window: nanos(2 * 60 * 1000),
    // REGISTRY is compacted: one subject per object, its last message only (SPEC §12).
    // An in-place update; nats-server 2.9 does not trim what is there already, so the
    // hook-registry purges the old layout at start (apps/hook-registry/src/changes/registry-compaction.ts).
    ...(stream === 'REGISTRY' ? { max_msgs_per_subject: 1 } : {}),
    num_replicas: replicas,
  };
}

/** Headers an upgrade adds to the copy of a message, to put it back where it was. */
const UpgradeHeaders = { Subject: 'Posthooks-Upgrade-Subject', Sequence: 'Posthooks-Upgrade-Sequence', MsgId: 'Posthooks-Upgrade-Msg-Id' } as const;
const MSG_ID = 'Nats-Msg-Id';

/**
 * Creates every stream of the contract, or brings it to this config without losing a
 * message (see ProvisionStep). Idempotent, and safe with several services or replicas
 * provisioning at once.
 */
export async function provisionStreams(jsm: JetStreamManager, naming: NatsNaming, replicas: number, limits: StreamByteLimits): Promise<void> {
  for (const stream of Object.keys(Streams) as StreamName[]) await provisionStream(jsm, naming, streamConfig(stream, naming, replicas, limits));
}

const log = new Logger('Streams');

async function provisionStream(jsm: JetStreamManager, naming: NatsNaming, config: WantedStream): Promise<void> {
  const upgradeName = `${config.name}_UPGRADE`;
  const dropsOld = config.discard === DiscardPolicy.Old;
  // Set once the server refuses this service a write: with NATS credentials only the
  // hook-registry administers streams (k8s/base/nats-permissions.conf). The others wait
  // until the stream is there and upgraded, and take it as it is.
  let mayOnlyRead = false;
  for (;;) {
    const current = await streamInfo(jsm, config.name);
    const upgrade = await streamInfo(jsm, upgradeName);
    const step = nextProvisionStep(config.retention, current && { retention: current.config.retention, sealed: current.config.sealed ?? false }, upgrade !== undefined);
    if (mayOnlyRead) {
      if (step === 'update') return;
      await sleep(1000);
      continue;
    }
    try {
      switch (step) {
        case 'create': {
          // Room for what an interrupted upgrade still holds, whatever the wanted limit.
          const added = await jsm.streams.add({ ...config, max_bytes: safeMaxBytes(config.max_bytes, upgrade?.state.bytes ?? 0, dropsOld) }).then(
            () => true,
            // Another service created it between our look and our add: look again.
            (err: Error) => (/already in use/.test(err.message) ? false : Promise.reject(err)),
          );
          if (added && !upgrade) return;
          continue;
        }
        case 'update':
          await jsm.streams.update(config.name, { ...config, max_bytes: safeMaxBytes(config.max_bytes, current?.state.bytes ?? 0, dropsOld) });
          return;
        case 'seal':
          if (!current) continue;
          log.log(`${config.name}: upgrading from ${current.config.retention} to ${config.retention} retention; publishes wait until it is done`);
          await jsm.streams.update(config.name, sealedConfig(current.config));
          continue;
        case 'copy-out':
          // One replica at a time: a copy ends by deleting the old stream, and a second
          // copier deleting "the old stream" after the first had created the new one
          // would delete the new one (seen in the test of two replicas at once).
          if (!(await withUpgradeLock(jsm, naming, config.name, (lost) => copyOut(jsm, naming, config, upgradeName, lost)))) await sleep(500);
          continue;
        case 'restore':
          await restore(jsm, upgradeName, config.name);
          continue;
      }
    } catch (err) {
      if (err instanceof NatsError && err.code === ErrorCode.PermissionsViolation) {
        mayOnlyRead = true;
        if (step !== 'update') log.log(`${config.name}: waiting for a service allowed to administer streams (the hook-registry) to ${step === 'create' ? 'create' : 'upgrade'} it`);
        continue;
      }
      // A replica doing the same steps deleted what this one was reading or writing to
      // (no stream answers a publish: "503" without an API error): look again.
      const gone = isNotFound(err as Error) || (err instanceof NatsError && err.code === ErrorCode.NoResponders && !err.api_error);
      if (!gone) throw err;
    }
  }
}

/**
 * Copies the messages of the sealed old stream that are not consumed yet into the
 * upgrade stream, then deletes the old stream (its consumers with it: each service
 * creates its own again when it starts consuming). Runs under the upgrade lock and reads
 * the stream again under it. A copy interrupted by a crash resumes where the upgrade
 * stream ends (its copies carry their own Nats-Msg-Id, so a repeat is stored once).
 */
async function copyOut(jsm: JetStreamManager, naming: NatsNaming, wanted: WantedStream, upgradeName: string, lockLost: () => boolean): Promise<void> {
  const old = await jsm.streams.info(wanted.name);
  if (old.config.retention === wanted.retention || !old.config.sealed) return;
  const js = jsm.jetstream();
  const upgradeSubject = naming.subject(`upgrade.${old.config.name}`);
  await addOrKeep(jsm, { name: upgradeName, subjects: [upgradeSubject], storage: StorageType.File, retention: RetentionPolicy.Limits, num_replicas: old.config.num_replicas, duplicate_window: nanos(60 * 60 * 1000) });
  const consumers: ConsumerProgress[] = [];
  for await (const c of await jsm.consumers.list(old.config.name)) consumers.push({ filter: c.config.filter_subject ?? '', ackFloor: c.ack_floor.stream_seq });
  const copied = await lastCopiedSeq(jsm, upgradeName, upgradeSubject);
  let carried = 0;
  for (let seq = Math.max(firstSeqToCopy(old.state.first_seq, old.config.subjects, consumers), copied + 1); seq <= old.state.last_seq; seq++) {
    const msg = await storedMessage(jsm, old.config.name, seq);
    if (!msg || !mustCarryOver(seq, msg.subject, consumers)) continue;
    const h = natsHeaders();
    // The copy has its own Nats-Msg-Id (de-duplicating copies): the original's travels beside it.
    for (const [key, values] of msg.header ?? []) if (key !== MSG_ID) for (const v of values) h.append(key, v);
    if (msg.header?.get(MSG_ID)) h.set(UpgradeHeaders.MsgId, msg.header.get(MSG_ID));
    h.set(UpgradeHeaders.Subject, msg.subject);
    h.set(UpgradeHeaders.Sequence, String(seq));
    await js.publish(upgradeSubject, msg.data, { msgID: `upgrade-${seq}`, headers: h });
    carried++;
  }
  // Still the sealed old stream (same creation time), and still ours to delete.
  const again = await streamInfo(jsm, old.config.name);
  if (!again || again.created !== old.created || lockLost()) return;
  await jsm.streams.delete(old.config.name);
  log.log(`${old.config.name}: ${carried} messages not consumed yet set aside in ${upgradeName}; old stream deleted`);
}

/**
 * Runs `work` if this process holds the upgrade lock of `stream` (a key created in a
 * small KV bucket; it lapses 10 s after its holder stops renewing it, so a crashed
 * holder does not block the upgrade). Returns false without running it otherwise.
 */
async function withUpgradeLock(jsm: JetStreamManager, naming: NatsNaming, stream: string, work: (lost: () => boolean) => Promise<void>): Promise<boolean> {
  const kv = await jsm.jetstream().views.kv(naming.stream('STREAM_UPGRADES'), { ttl: LOCK_TTL_MS, max_bytes: 1024 * 1024, history: 1 });
  const owner = randomUUID();
  const created = await kv.create(stream, owner).catch(() => undefined);
  if (created === undefined) return false;
  let revision = created;
  let lost = false;
  const renew = setInterval(() => {
    kv.update(stream, owner, revision).then(
      (r) => (revision = r),
      () => (lost = true),
    );
  }, LOCK_TTL_MS / 3);
  try {
    await work(() => lost);
    return true;
  } finally {
    clearInterval(renew);
    if (!lost) await kv.delete(stream).catch(() => undefined);
  }
}

const LOCK_TTL_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Puts the set-aside messages back on their subjects, now stored by the new stream, and
 * deletes each from the upgrade stream once it is: a restore interrupted by a crash
 * re-publishes at most the message it was on (stored once: its own Nats-Msg-Id).
 */
async function restore(jsm: JetStreamManager, upgradeName: string, streamName: string): Promise<void> {
  const js = jsm.jetstream();
  const info = await jsm.streams.info(upgradeName);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await storedMessage(jsm, upgradeName, seq);
    if (!msg) continue;
    const h = natsHeaders();
    for (const [key, values] of msg.header) if (key !== MSG_ID && !Object.values<string>(UpgradeHeaders).includes(key)) for (const v of values) h.append(key, v);
    // Its own id again (a message without one gets one, so a repeated restore stores it once).
    const msgID = msg.header.get(UpgradeHeaders.MsgId) || `upgrade-${streamName}-${msg.header.get(UpgradeHeaders.Sequence)}`;
    for (;;) {
      const stored = await js.publish(msg.header.get(UpgradeHeaders.Subject), msg.data, { msgID, headers: h }).then(
        () => true,
        // The new stream is already full of new work: wait for its consumer to make room.
        (err: Error) => (streamFullOf(err) ? false : Promise.reject(err)),
      );
      if (stored) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await jsm.streams.deleteMessage(upgradeName, seq, false).catch((err: Error) => (/no message found|not found/i.test(err.message) ? false : Promise.reject(err)));
  }
  await jsm.streams.delete(upgradeName).catch((err: Error) => (isNotFound(err) ? false : Promise.reject(err)));
  log.log(`${streamName}: upgrade done, set-aside messages restored`);
}

/** The stream's own config, sealed (nats.js leaves `sealed` out of its update type). */
function sealedConfig(config: StreamConfig): Partial<StreamConfig> {
  // Sealing also sets deny_delete and deny_purge, which can never be unset: setting them
  // too keeps a second replica's seal (made from the config before the first's) valid.
  return { ...config, sealed: true, deny_delete: true, deny_purge: true };
}

async function lastCopiedSeq(jsm: JetStreamManager, upgradeName: string, subject: string): Promise<number> {
  const last = await jsm.streams.getMessage(upgradeName, { last_by_subj: subject }).catch((err: Error) => (/no message found/i.test(err.message) ? undefined : Promise.reject(err)));
  return last ? Number(last.header.get(UpgradeHeaders.Sequence)) : 0;
}

async function storedMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | undefined> {
  // A gap (a message removed by its consumer or its age) reads as "no message found".
  return jsm.streams.getMessage(stream, { seq }).catch((err: Error) => (/no message found/i.test(err.message) ? undefined : Promise.reject(err)));
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(name).catch((err: Error) => (isNotFound(err) ? undefined : Promise.reject(err)));
}

async function addOrKeep(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  await jsm.streams.add(config).catch((err: Error) => (/already in use/.test(err.message) ? undefined : Promise.reject(err)));
}

export interface DurableConsumerSpec {
  stream: StreamName;
  /** Shared by every replica of a service, so replicas split the work. */
  durable: string;
  /** One logical subject (nats-server 2.9 has a single filter); default the whole stream. */
  filterSubject?: string;
  ackWaitMs: number;
  maxAckPending: number;
}

export async function provisionConsumer(jsm: JetStreamManager, naming: NatsNaming, spec: DurableConsumerSpec): Promise<void> {
  const stream = naming.stream(Streams[spec.stream].name);
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    // Redelivery is unbounded on the server: the transport dead-letters a message after
    // its own limit, so nothing is ever dropped silently by max_deliver.
    max_deliver: -1,
    max_ack_pending: spec.maxAckPending,
    ...(spec.filterSubject ? { filter_subject: naming.subject(spec.filterSubject) } : {}),
  };
  const exists = await jsm.consumers.info(stream, spec.durable).then(
    () => true,
    (err: Error) => (isNotFound(err) ? false : Promise.reject(err)),
  );
  if (exists) await jsm.consumers.update(stream, spec.durable, config);
  else await jsm.consumers.add(stream, config).catch(async (err: Error) => {
    // A replica starting at the same moment created it first: fine, make it ours.
    if (!/already exists|already in use/.test(err.message)) throw err;
    await jsm.consumers.update(stream, spec.durable, config);
  });
}

function isNotFound(err: Error): boolean {
  return /not found/i.test(err.message);
}
