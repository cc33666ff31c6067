import { JetStreamClient, nanos, ObjectStore, StorageType } from 'nats';
import { NatsNaming } from './naming';

/**
 * Records too large for an INGEST message (NATS refuses payloads over 1 MB) travel by
 * reference: the gateway stores the record's JSON in this JetStream object store and the
 * message names it (`record_refs`); the load-simulator reads it before loading and
 * deletes it once the message is acknowledged. Namespaced like the streams (its stream
 * is `OBJ_<bucket>`). Objects live as long as INGEST keeps messages, so one whose message
 * was acked but whose delete was cut off by a crash expires with it.
 */
export const INGEST_RECORDS_BUCKET = 'INGEST_RECORDS';
const INGEST_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

export function ingestRecordsBucket(naming: NatsNaming): string {
  return naming.stream(INGEST_RECORDS_BUCKET);
}

/** Opens the bucket, creating it if missing. */
export function openIngestRecordStore(js: JetStreamClient, naming: NatsNaming, replicas: number): Promise<ObjectStore> {
  return js.views.os(ingestRecordsBucket(naming), { storage: StorageType.File, replicas, ttl: nanos(INGEST_MAX_AGE_MS) });
}
