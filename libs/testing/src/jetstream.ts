import type { JetStreamManager, StoredMsg } from 'nats';
import { Client } from 'pg';
import { waitFor } from './wait-for';

/** The name of a stream in a test namespace (`t123` → `T123_LOADS`), as the services name it. */
export function streamName(namespace: string, stream: string): string {
  return namespace ? `${namespace.toUpperCase()}_${stream}` : stream;
}

/**
 * Every message a stream still holds, optionally only those of one contract subject. On
 * a work-queue stream that is what no consumer has acknowledged yet.
 */
export async function streamMessages(jsm: JetStreamManager, namespace: string, stream: string, subject?: string): Promise<StoredMsg[]> {
  const name = streamName(namespace, stream);
  const last = (await jsm.streams.info(name)).state.last_seq;
  const out: StoredMsg[] = [];
  for (let seq = 1; seq <= last; seq++) {
    // A message may have been removed (its age, or its consumer's ack on a work-queue
    // stream: LOADS, INGEST, NOTIFY, DELIVERIES): skip the gap.
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => undefined);
    // A keyed subject (`registry.hook.changed.42`, `ingest.records.7.52`) counts as its subject.
    const wanted = subject === undefined ? undefined : namespace ? `${namespace}.${subject}` : subject;
    if (m && (wanted === undefined || m.subject === wanted || m.subject.startsWith(`${wanted}.`))) out.push(m);
  }
  return out;
}

/**
 * Waits until the dispatcher has nothing left to do: its two consumers have nothing
 * pending or unacknowledged, and no delivery in its database is pending (due, under way,
 * or waiting for a retry). `databaseUrl` is the dispatcher's DATABASE_URL.
 */
export async function dispatcherIdle(jsm: JetStreamManager, namespace: string, databaseUrl: string, timeoutMs = 30_000): Promise<void> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    await waitFor(
      'the dispatcher to be idle',
      async () => {
        for (const [stream, durable] of [['LOADS', 'dispatcher'], ['DELIVERIES', 'dispatcher-deliveries']]) {
          const info = await jsm.consumers.info(streamName(namespace, stream), durable);
          if (info.num_pending + info.num_ack_pending > 0) return false;
        }
        const [{ n }] = (await pg.query<{ n: string }>(`SELECT count(*) AS n FROM dispatcher.deliveries WHERE state = 'pending'`)).rows;
        return Number(n) === 0;
      },
      { timeoutMs },
    );
  } finally {
    await pg.end();
  }
}
