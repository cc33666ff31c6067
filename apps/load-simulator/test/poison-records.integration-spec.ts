import { INestApplication } from '@nestjs/common';
import { builtInDestinationDatabase, LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { LoadEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { createServiceApp } from '@posthooks/runtime';
import { streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { randomUUID } from 'node:crypto';
import { connect, JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { Client } from 'pg';
import { builtInDestination } from './destination-fixture';
import { loadSimulator } from '../src/service';

/**
 * SPEC §7: a record the destination cannot hold, whatever the reason, goes to
 * `_sdc_rejected` and never takes the good records of its batch down with it; integers
 * keep every digit. Messages are published as raw JSON text, the way the gateway's
 * stringifyJson writes them, so a big integer reaches the loader digit for digit.
 */
describe('loading: poison records and big integers', () => {
  let app: INestApplication;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let naming: NatsNaming;
  let pg: Client;
  let databaseUrl: string;
  let nextIntegration = 1;
  const pgOptions = () => ({ connectionString: databaseUrl });

  beforeAll(async () => {
    const env = loadEnv(LoadSimulatorEnv, { ...testEnv('poison'), NODE_ENV: 'test', LOG_LEVEL: 'error', LOAD_INTERVAL_MS: '200' });
    app = await createServiceApp(loadSimulator, env);
    nc = await connect({ servers: env.NATS_URL });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
    naming = new NatsNaming(env.NATS_NAMESPACE);
    pg = await builtInDestination(app, env, 3);
    databaseUrl = builtInDestinationDatabase(env.DATABASE_URL, 3).url;
  });
  afterAll(async () => {
    await app.close();
    await nc.close();
    await pg.end();
  });

  const integration = (primaryKey?: string) => ({ id: nextIntegration++, name: 'poison', primaryKey });
  type Integration = ReturnType<typeof integration>;
  const schema = (i: Integration) => `${i.name}_${i.id}`;

  /** One INGEST message whose records are JSON text as it was posted (`recordsJson`). */
  async function ingestText(i: Integration, recordsJson: string): Promise<void> {
    const requestId = randomUUID();
    const envelope = JSON.stringify({
      integration_id: i.id,
      client_id: 7,
      destination_id: 3,
      integration_name: i.name,
      ...(i.primaryKey ? { primary_key: i.primaryKey } : {}),
      request_id: requestId,
      part: 0,
      received_at: new Date().toISOString(),
      records: '@records@',
    });
    await js.publish(naming.subject(Subjects.IngestRecords), envelope.replace('"@records@"', recordsJson), { msgID: `${requestId}-0` });
  }

  async function loadEvents(i: Integration): Promise<(LoadEvent & { subject: string })[]> {
    const messages = await streamMessages(jsm, naming.namespace, 'LOADS');
    return messages.map((m) => ({ ...m.json<LoadEvent>(), subject: naming.logical(m.subject)! })).filter((e) => e.event_id?.startsWith(`load-${i.id}-`));
  }

  const eventsAfter = (i: Integration, count: number) =>
    waitFor(`${count} load events`, async () => {
      const events = await loadEvents(i);
      return events.length >= count && events;
    });

  const fields = (prefix: string, count: number, value: unknown) => Object.fromEntries(Array.from({ length: count }, (_, n) => [`${prefix}${n}`, value]));

  it('rejects each kind of poison record with its reason and loads every good record of the batch', async () => {
    const i = integration('id');
    await ingestText(i, JSON.stringify([{ id: 1, amount: 10, paid: true, name: 'a' }]));
    await eventsAfter(i, 1);

    const poison = [
      JSON.stringify({ id: 2, amount: 20, name: 'good' }),
      JSON.stringify({ id: 3, '': 'x' }),
      JSON.stringify({ id: 4, amount: 'ten' }),
      JSON.stringify({ id: 5, paid: { yes: true } }),
      JSON.stringify({ id: 6, ...fields('c', 1700, 1) }),
      // 500 strings of 20 bytes: none worth TOASTing, 10 KB in all, wider than a page.
      JSON.stringify({ id: 7, ...fields('w', 500, 'x'.repeat(20)) }),
      '{"id":8,"amount":1.000000000000000e200000}',
      JSON.stringify({ id: 9, name: 'a\u0000b' }),
      '{"id":10,"amount":9007199254740993}',
      JSON.stringify({ id: 11, amount: 12.5, paid: false }),
      // JSON.parse reads it as Infinity: a new numeric column would have got null.
      '{"id":12,"huge":1e400}',
    ];
    await ingestText(i, `[${poison.join(',')}]`);
    const events = await eventsAfter(i, 2);
    expect(events[1]).toMatchObject({ subject: 'table.loaded', num_rows: 3, num_rows_rejected: 8 });

    const rows = (await pg.query(`SELECT id::text, amount::text, paid, name FROM "${schema(i)}".data ORDER BY data.id`)).rows;
    expect(rows).toEqual([
      { id: '1', amount: '10', paid: true, name: 'a' },
      { id: '2', amount: '20', paid: null, name: 'good' },
      { id: '10', amount: '9007199254740993', paid: null, name: null },
      { id: '11', amount: '12.5', paid: false, name: null },
    ]);
    const rejected = (await pg.query(`SELECT record, reason, table_name FROM "${schema(i)}"._sdc_rejected`)).rows;
    const reasonOf = (id: number) => rejected.find((r) => (r.record.id ?? JSON.parse(r.record).id) === id)?.reason;
    expect(rejected).toHaveLength(8);
    expect(rejected.every((r) => r.table_name === 'data')).toBe(true);
    expect(reasonOf(3)).toMatch(/field name is empty/);
    expect(reasonOf(4)).toMatch(/"amount" is "ten", which does not fit its column of type numeric/);
    expect(reasonOf(5)).toMatch(/"paid" is \{"yes":true\}, which does not fit its column of type boolean/);
    expect(reasonOf(6)).toMatch(/past Postgres's limit of 1600/);
    expect(reasonOf(7)).toMatch(/row is too big/);
    expect(reasonOf(8)).toMatch(/value overflows numeric format/);
    expect(reasonOf(9)).toMatch(/unsupported Unicode escape sequence/);
    expect(reasonOf(12)).toMatch(/"huge" is Infinity, which does not fit its column of type numeric/);
    // What jsonb cannot hold either is kept as its JSON text.
    expect(rejected.find((r) => typeof r.record === 'string' && JSON.parse(r.record).id === 9)?.record).toBe(JSON.stringify({ id: 9, name: 'a\u0000b' }));
    // The poison records added no column: their transactions were rolled back.
    const width = (await pg.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'data'`, [schema(i)])).rows[0].n;
    expect(width).toBe(4 + 4);
  });

  it('does not turn an outage into rejections: a write whose connection is killed is retried whole, and rejects nothing', async () => {
    const i = integration('id');
    await ingestText(i, JSON.stringify([{ id: 1, v: 'a' }]));
    await eventsAfter(i, 1);
    // Hold the schema's load lock, so the next write waits on it; then kill the waiting backend (57P01).
    const holder = new Client(pgOptions());
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [`posthooks:load:${schema(i)}`]);
      await ingestText(i, JSON.stringify([{ id: 2, v: 'b' }, { id: 3, v: 'c' }]));
      const waiting = await waitFor('the loader waiting on the lock', async () => {
        const r = await pg.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'`);
        return r.rows.length > 0 && r.rows;
      });
      for (const { pid } of waiting) await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await holder.end();
    }
    const events = await eventsAfter(i, 2);
    expect(events[1]).toMatchObject({ subject: 'table.loaded', num_rows: 2, num_rows_rejected: 0 });
    expect((await pg.query(`SELECT id::text FROM "${schema(i)}".data ORDER BY data.id`)).rows.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect((await pg.query(`SELECT count(*)::int AS n FROM "${schema(i)}"._sdc_rejected`)).rows[0].n).toBe(0);
  });

  it('keeps 9007199254740993 and 9007199254740992 apart as two rows, with a primary key', async () => {
    const i = integration('id');
    await ingestText(i, '[{"id":9007199254740993,"n":1},{"id":9007199254740992,"n":2},{"id":3,"meta":{"big":12345678901234567890123}}]');
    expect((await eventsAfter(i, 1))[0]).toMatchObject({ subject: 'table.loaded', num_rows: 3, num_rows_rejected: 0 });
    const rows = (await pg.query(`SELECT id::text, n::text, meta->>'big' AS big FROM "${schema(i)}".data ORDER BY data.id`)).rows;
    expect(rows).toEqual([
      { id: '3', n: null, big: '12345678901234567890123' },
      { id: '9007199254740992', n: '2', big: null },
      { id: '9007199254740993', n: '1', big: null },
    ]);
    const type = (await pg.query(`SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'data' AND column_name = 'id'`, [schema(i)])).rows[0];
    expect(type).toEqual({ data_type: 'numeric' });
  });

  it('keeps 9007199254740993 and 9007199254740992 apart, appended without a primary key', async () => {
    const i = integration();
    await ingestText(i, '[{"id":9007199254740993},{"id":9007199254740992},{"id":-123456789012345678901234567890.5}]');
    await eventsAfter(i, 1);
    const ids = (await pg.query(`SELECT id::text FROM "${schema(i)}".data ORDER BY data.id`)).rows.map((r) => r.id);
    expect(ids).toEqual(['-123456789012345678901234567890.5', '9007199254740992', '9007199254740993']);
  });
});
