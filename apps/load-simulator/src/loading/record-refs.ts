import { Inject, Injectable, Logger } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { IngestRecordsEvent, parseJson } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming, openIngestRecordStore } from '@posthooks/messaging';
import type { NatsConnection, ObjectStore } from 'nats';

/**
 * What `withRecords` found: the event with all its records, or why it can never be loaded
 * (its handler dead-letters it).
 */
export type RecordsRead = { ok: true; event: IngestRecordsEvent } | { ok: false; reason: string };

/**
 * The load side of records that travel by reference (libs/messaging ingest-record-store):
 * `withRecords` reads the records an INGEST message names before it is loaded, and
 * `release` deletes them once the message is acknowledged, never before: a loader that
 * dies in between gets the message again and finds its records still there.
 */
@Injectable()
export class RecordRefs {
  private readonly log = new Logger('Loader');
  private store?: Promise<ObjectStore>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {}

  /**
   * The event with the records it names appended to its own, or, if one of them is gone
   * or not a record, the reason: that will not change on a redelivery. A store that
   * cannot be read (NATS away) throws, and the message is retried.
   */
  async withRecords(event: IngestRecordsEvent): Promise<RecordsRead> {
    const refs = event.record_refs ?? [];
    if (refs.length === 0) return { ok: true, event };
    const store = await this.open();
    const records = [...event.records];
    for (const name of refs) {
      const blob = await store.getBlob(name);
      // Gone: expired with INGEST's age, or never stored. Nothing to load will ever come.
      if (blob === null) return { ok: false, reason: `record ${name} is not in the ${INGEST_RECORDS_WHAT}` };
      const record: unknown = parseJson(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('utf8'));
      if (typeof record !== 'object' || record === null || Array.isArray(record)) return { ok: false, reason: `record ${name} in the ${INGEST_RECORDS_WHAT} is not a JSON object` };
      records.push(record as Record<string, unknown>);
    }
    return { ok: true, event: { ...event, records } };
  }

  /** Deletes what the (acknowledged) event named. A failure only leaves an object to expire. */
  async release(event: IngestRecordsEvent): Promise<void> {
    const refs = event.record_refs ?? [];
    if (refs.length === 0) return;
    const store = await this.open();
    for (const name of refs) {
      await store.delete(name).catch((err: Error) => this.log.warn(`could not delete record ${name} from the ${INGEST_RECORDS_WHAT} (it expires with INGEST's age): ${err.message}`));
    }
  }

  private open(): Promise<ObjectStore> {
    this.store ??= openIngestRecordStore(this.nc.jetstream(), this.naming, this.env.NATS_STREAM_REPLICAS).catch((err: unknown) => {
      this.store = undefined;
      throw err;
    });
    return this.store;
  }
}

const INGEST_RECORDS_WHAT = 'object store of large records';
