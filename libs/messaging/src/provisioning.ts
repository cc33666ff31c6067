import { StreamName, Streams } from '@posthooks/contracts';
import { AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, JetStreamManager, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { NatsNaming } from './naming';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long each stream keeps messages. LOADS/INGEST/NOTIFY are work queues in spirit
 * but use limits retention so an operator can replay; REGISTRY is the source of every
 * service's view of accounts and hooks, so it keeps everything.
 */
const MAX_AGE_MS: Record<StreamName, number> = {
  LOADS: 7 * DAY_MS,
  INGEST: 7 * DAY_MS,
  NOTIFY: 7 * DAY_MS,
  DELIVERIES: 7 * DAY_MS,
  REGISTRY: 0,
  DEADLETTER: 30 * DAY_MS,
};

export function streamConfig(stream: StreamName, naming: NatsNaming, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name: naming.stream(Streams[stream].name),
    subjects: Streams[stream].subjects.map((s) => naming.subject(s)),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(MAX_AGE_MS[stream]),
    // Nats-Msg-Id de-duplication window: a publisher retrying within it is stored once.
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: replicas,
  };
}

/** Creates every stream of the contract, or updates it to this config. Idempotent. */
export async function provisionStreams(jsm: JetStreamManager, naming: NatsNaming, replicas: number): Promise<void> {
  for (const stream of Object.keys(Streams) as StreamName[]) {
    const config = streamConfig(stream, naming, replicas);
    const exists = await jsm.streams.info(config.name).then(
      () => true,
      (err: Error) => (isNotFound(err) ? false : Promise.reject(err)),
    );
    if (!exists) {
      // Another service may create it between our check and our add: then update it.
      const added = await jsm.streams.add(config).then(
        () => true,
        (err: Error) => (/already in use/.test(err.message) ? false : Promise.reject(err)),
      );
      if (added) continue;
    }
    await jsm.streams.update(config.name, config);
  }
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
