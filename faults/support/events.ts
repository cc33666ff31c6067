import { HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { streamMessages, streamName } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';

/**
 * A NATS connection of the test itself to a private server that will be restarted: it
 * reconnects for as long as it takes.
 */
export function testConnection(url: string): Promise<NatsConnection> {
  // A cluster's URL lists every node, comma-separated (as NATS_URL does).
  return connect({ servers: url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/**
 * Publishes `count` load events (`table.loaded`, event ids `<prefix>-<i>`) to LOADS and
 * waits for every JetStream ack: each one returned is stored. Up to 100 publishes in
 * flight; the event id is also the Nats-Msg-Id, so a retried publish is stored once.
 */
export async function publishLoads(nc: NatsConnection, namespace: string, clientId: number, prefix: string, count: number, from = 0): Promise<string[]> {
  const js = nc.jetstream();
  const ids: string[] = [];
  for (let start = from; start < from + count; start += 100) {
    const chunk: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(start + 100, from + count); i++) {
      const eventId = `${prefix}-${i}`;
      ids.push(eventId);
      const body = { client_id: clientId, integration_name: 'faults', table_name: `t${i % 7}`, num_rows: i, event_id: eventId };
      chunk.push(publishWithRetry(() => js.publish(`${namespace}.table.loaded`, JSON.stringify(body), { msgID: eventId })));
    }
    await Promise.all(chunk);
  }
  return ids;
}

/** A publish that hits a server restart is tried again (the Nats-Msg-Id keeps it single). */
async function publishWithRetry(publish: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await publish();
      return;
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * The number of messages a stream of the namespace ever stored (its last sequence): work
 * queues (LOADS, NOTIFY, ...) remove a message once it is consumed.
 */
export async function streamCount(nc: NatsConnection, namespace: string, stream: string): Promise<number> {
  return (await (await nc.jetstreamManager()).streams.info(streamName(namespace, stream))).state.last_seq;
}

/**
 * hook.undeliverable events, per hook id: webhook ids in order of publication. NOTIFY is a
 * work queue: those the email-notifier took are read from what it recorded (`databaseUrl`,
 * its schema), those not taken yet from the stream.
 */
export async function undeliverables(nc: NatsConnection, namespace: string, databaseUrl?: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (databaseUrl) {
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ hook_id: number; webhook_id: string }>('SELECT hook_id, webhook_id FROM email_notifier.undeliverable_events ORDER BY received_at, event_key');
      for (const r of rows) out.set(Number(r.hook_id), [...(out.get(Number(r.hook_id)) ?? []), r.webhook_id]);
    } finally {
      await pg.end();
    }
  }
  for (const m of await streamMessages(await nc.jetstreamManager(), namespace, 'NOTIFY', Subjects.HookUndeliverable)) {
    const u = m.json<HookUndeliverableEvent>();
    out.set(u.hook_id, [...(out.get(u.hook_id) ?? []), u.webhook_id]);
  }
  return out;
}
