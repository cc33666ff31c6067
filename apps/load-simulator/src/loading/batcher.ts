import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { IngestRecordsEvent, LoadEvent, LoadStartedEvent, Subjects } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { createHash } from 'node:crypto';
import { DestinationPools, DestinationUnavailableError } from '../destination-pools/destination-pools';
import { loadSeconds, rowsLoaded } from '../metrics';
import { IntegrationLoads } from './integration-loads';
import { IncomingRecord, TableLoader } from './table-loader';

/** INGEST messages held at once (each waits, unacked, for its batch to be loaded). */
export const MESSAGES_IN_FLIGHT = 500;
/**
 * And at most this many bytes of them: a batch flushes at FLUSH_RECORDS, so with large
 * messages this is reached only while flushes queue up behind a slow load.
 */
export const BYTES_IN_FLIGHT = 8 * 1024 * 1024;
/**
 * A batch is flushed after LOAD_INTERVAL_MS, or sooner when it holds this many records,
 * or this many messages (so that waiting messages never take all the consumer's slots).
 */
export const FLUSH_RECORDS = 20_000;
export const FLUSH_MESSAGES = MESSAGES_IN_FLIGHT / 2;

interface Waiting {
  event: IngestRecordsEvent;
  done: (err?: unknown) => void;
}

/** A flush's place in its integration's line: when its write starts, and when it is done. */
interface Turn {
  writing: Promise<void>;
  done: Promise<void>;
}

interface Batch {
  waiting: Waiting[];
  records: number;
  timer: NodeJS.Timeout;
}

/**
 * Collects ingested records per integration and loads them together. A message is
 * acknowledged only when the batch holding it is loaded and its event published: a
 * loader killed mid-flush loses nothing (the messages come back) and, since loading is
 * idempotent, loads nothing twice.
 */
@Injectable()
export class Batcher implements OnApplicationShutdown {
  private readonly log = new Logger('Loader');
  private readonly batches = new Map<number, Batch>();
  /** Flushes of one integration write one after the other: the last one's turn. */
  private readonly chains = new Map<number, Turn>();

  constructor(
    private readonly loader: TableLoader,
    private readonly pools: DestinationPools,
    private readonly publisher: EventPublisher,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
    private readonly loads: IntegrationLoads,
  ) {}

  /** Resolves when the records are loaded, rejects if the flush failed (the message is retried). */
  add(event: IngestRecordsEvent): Promise<void> {
    // A destination that is down hands its messages back at once rather than letting each
    // hold a consumer slot until a flush that would fail (other destinations need them).
    const refused = this.pools.refusal(event.destination_id);
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      const id = event.integration_id;
      let batch = this.batches.get(id);
      if (!batch) {
        batch = { waiting: [], records: 0, timer: setTimeout(() => this.flush(id), this.env.LOAD_INTERVAL_MS) };
        this.batches.set(id, batch);
      }
      batch.waiting.push({ event, done: (err) => (err ? reject(err) : resolve()) });
      batch.records += event.records.length;
      if (batch.records >= FLUSH_RECORDS || batch.waiting.length >= FLUSH_MESSAGES) this.flush(id);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    for (const id of [...this.batches.keys()]) this.flush(id);
    await Promise.allSettled([...this.chains.values()].map((t) => t.done));
  }

  private flush(integrationId: number): void {
    const batch = this.batches.get(integrationId);
    if (!batch) return;
    this.batches.delete(integrationId);
    clearTimeout(batch.timer);
    const before = this.chains.get(integrationId) ?? { writing: Promise.resolve(), done: Promise.resolve() };
    let writing!: () => void;
    const writeStarted = new Promise<void>((resolve) => (writing = resolve));
    const done = before.writing.then(() => this.loadAndAnnounce(batch.waiting, before.done, writing));
    this.chains.set(integrationId, { writing: writeStarted, done });
  }

  /**
   * Checks the batch while the flush before it writes (CPU here overlapping Postgres
   * there; only one checked batch waits at a time), then writes it once that flush is
   * done, and announces it. Never rejects: a failure fails the batch's messages.
   */
  private async loadAndAnnounce(waiting: Waiting[], previous: Promise<void>, writing: () => void): Promise<void> {
    const first = waiting[0].event;
    // A message of a gateway before issue 17 names no schema: its integration's is `<name>_<id>`.
    const schema = first.schema ?? `${first.integration_name}_${first.integration_id}`;
    const records: IncomingRecord[] = waiting.flatMap(({ event }) => event.records.map((record, i) => ({ record, sourceId: `${event.request_id}:${event.part}:${i}`, receivedAt: event.received_at })));
    try {
      const prepared = this.loader.prepare(first.destination_id, schema, first.primary_key, records, new Date());
      await previous;
      writing();
      // The data does not wait for the announcement (a full LOADS must not stop loading): a
      // start that could not be published is tried again with the flush, which fails and
      // is retried whenever its load event cannot be published either.
      await this.announceStart(waiting).catch((err: Error) => this.log.warn(`load.started of ${schema} not published, the load goes on: ${err.message}`));
      const timer = loadSeconds.startTimer();
      const result = await this.loader.write(prepared);
      timer();
      rowsLoaded.inc({ outcome: 'loaded' }, result.loaded);
      rowsLoaded.inc({ outcome: 'rejected' }, result.rejected.length);
      await this.announce(waiting, result.loaded, result.rejected, prepared.batchedAt);
      // The console's figures: a failure here must not send loaded records round again.
      await this.loads.record(first.client_id, first.integration_id, result.loaded, result.rejected.length, prepared.batchedAt).catch((err: Error) => this.log.warn(`recording the load of ${schema}: ${err.message}`));
      waiting.forEach((w) => w.done());
    } catch (err) {
      // A destination that is down is logged by DestinationPools, once a minute.
      if (!(err instanceof DestinationUnavailableError)) this.log.warn(`loading ${records.length} records into ${schema} of destination ${first.destination_id} failed, they will come back: ${(err as Error).message}`);
      waiting.forEach((w) => w.done(err));
    } finally {
      writing();
    }
  }

  /**
   * `load.started` before the flush writes (SPEC §4), for the one table it writes. Named
   * after the flush's content like its load event, so a flush repeated after a crash or an
   * outage announces its start once (Nats-Msg-Id, then the dispatcher's event_id).
   */
  private async announceStart(waiting: Waiting[]): Promise<void> {
    const first = waiting[0].event;
    const eventId = `started-${first.integration_id}-${flushKey(waiting)}`;
    const event: LoadStartedEvent = Object.assign(new LoadStartedEvent(), {
      event_id: eventId,
      client_id: first.client_id,
      destination_id: first.destination_id,
      integration_name: first.integration_name,
      table_name: 'data',
      started_at: new Date().toISOString(),
    });
    await this.publisher.publish(Subjects.LoadStarted, event, { msgId: eventId });
  }

  /** One event per flush: table.loaded if any row loaded, table.rejected if all were rejected. */
  private async announce(waiting: Waiting[], loaded: number, rejected: { reason: string }[], batchedAt: Date): Promise<void> {
    const first = waiting[0].event;
    // Named after its content, so a flush repeated after a crash announces the same event.
    const eventId = `load-${first.integration_id}-${flushKey(waiting)}`;
    const event: LoadEvent = Object.assign(new LoadEvent(), {
      event_id: eventId,
      client_id: first.client_id,
      destination_id: first.destination_id,
      integration_name: first.integration_name,
      table_name: 'data',
      num_rows: loaded,
      num_rows_rejected: rejected.length,
      minimum_sdc_batched_at: batchedAt.toISOString(),
      max_time_extracted: waiting.map((w) => w.event.received_at).sort().pop()!,
      table_version: 0,
      ...(loaded === 0 ? { error_message: `all ${rejected.length} records were rejected; the first: ${rejected[0].reason}`.slice(0, 4096) } : {}),
    });
    await this.publisher.publish(loaded > 0 ? Subjects.TableLoaded : Subjects.TableRejected, event, { msgId: eventId });
  }
}

/** What a flush holds, as a short stable key: the same messages make the same key, whatever their order. */
function flushKey(waiting: Waiting[]): string {
  return createHash('sha256').update(waiting.map((w) => `${w.event.request_id}:${w.event.part}`).sort().join(',')).digest('hex').slice(0, 24);
}
