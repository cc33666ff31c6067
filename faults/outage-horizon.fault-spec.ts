import { DeadLetterHeaders, HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { rawNatsPublish, SmtpSink, streamMessages } from '@posthooks/testing';
import { Client } from 'pg';
import { builtInDestinationDatabase } from '@posthooks/config';
import { ServiceName } from '../e2e/support/service-process';
import { streamCount } from './support/events';
import { metric } from './support/fault-stack';
import { PrivatePostgres } from './support/private-postgres';
import { report } from './support/report';
import { Scenario, since, waitOrExplain } from './support/scenario';

const ALL: ServiceName[] = ['hook-registry', 'dispatcher', 'email-notifier', 'ingest-gateway', 'load-simulator'];
/** The dead-letter horizon of this scenario (production: 20 min); the outage lasts longer. */
const HORIZON_MS = 30_000;
const OUTAGE_MS = 40_000;
const RECORDS = 400;

const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** Messages that blew the stack of the service consuming them (SPEC §4: none may crash a consumer), one per consumed subject. */
function hostile(clientId: number): [string, string][] {
  const nested = deep(5000);
  return [
    [Subjects.TableLoaded, `{"client_id":${clientId},"integration_name":"faults","table_name":"deep","bookmark_metadata":${nested}}`],
    [Subjects.IngestRecords, `{"integration_id":1,"client_id":${clientId},"destination_id":1,"integration_name":"x","request_id":"r","part":0,"received_at":"2026-11-30T00:00:00Z","records":[${nested}]}`],
    [Subjects.HookUndeliverable, `{"event_id":${nested}}`],
    [Subjects.HookGone, `{"hook_id":1,"client_id":1,"url":${nested}}`],
    [Subjects.HookTest, `{"hook_id":1,"client_id":${clientId},"event_id":${nested}}`],
    [Subjects.HookChanged, `{"hook_id":1,"account_id":${clientId},"secrets":${nested}}`],
  ];
}

/**
 * What the loader holds when records are missing: its INGEST consumer (waiting, unacked,
 * redelivered) and what its Postgres sessions are doing (a flush waiting on a lock or left
 * idle in a transaction would show here). Said only on failure, for the next reader.
 */
async function loaderState(s: Scenario, db: Client): Promise<string> {
  const jsm = await s.nc.jetstreamManager();
  const consumers = await jsm.consumers.list(`${s.ns.toUpperCase()}_INGEST`).next().catch(() => []);
  const lines = consumers.map((c) => `consumer ${c.name}: pending ${c.num_pending}, ack pending ${c.num_ack_pending}, redelivered ${c.num_redelivered}, waiting pulls ${c.num_waiting}`);
  const sessions = await db
    .query<{ state: string; wait: string; age: string; query: string }>(`SELECT state, coalesce(wait_event_type || ':' || wait_event, '') AS wait, (now() - state_change)::text AS age, left(query, 120) AS query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
    .then((r) => r.rows.map((row) => `session ${row.state} ${row.wait} for ${row.age}: ${row.query}`))
    .catch((err: Error) => [`pg_stat_activity: ${err.message}`]);
  return [...lines, ...sessions].join('\n');
}

/**
 * SPEC §4 and issue 13 items 1 and 7, with the services as processes on a Postgres of
 * their own. First a 5,000-deep message on every subject the services consume: each is
 * dead-lettered once with its reason, and no process dies. Then Postgres stops for longer
 * than the dead-letter horizon (shortened to 30 s): records the gateway accepted just
 * before and a hook.undeliverable raised as it stops wait for it and are retried without
 * counting, so after it the records are loaded, the email sent, and nothing more is
 * dead-lettered. At the end a restarted dispatcher replays REGISTRY, poison included.
 */
describe('fault: hostile messages, then Postgres down longer than the dead-letter horizon', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('nothing crashes, nothing accepted is dead-lettered or lost', async () => {
    const pg = await PrivatePostgres.start();
    s.onCleanup(() => pg.dispose());
    const sink = await SmtpSink.start();
    s.onCleanup(() => sink.close());
    const database = pg.url('posthooks_fault_horizon');
    const stack = await s.startStack('fault_horizon', {
      services: ['hook-registry'],
      common: { DATABASE_URL: database, DEADLETTER_AFTER_MS: String(HORIZON_MS), MESSAGE_RETRY_BASE_MS: '200', MESSAGE_RETRY_MAX_MS: '2000' },
      overrides: {
        'email-notifier': { SMTP_URL: sink.url, EMAIL_RETRY_BASE_MS: '200', EMAIL_RETRY_MAX_MS: '1000' },
        // Long enough that the records posted just before the outage are loaded during it.
        'load-simulator': { LOAD_INTERVAL_MS: '3000' },
      },
    });
    // The others one at a time (restart() starts a service with the stack's settings): five
    // starting together on a busy 2-core machine can overrun the 30 s readiness wait.
    for (const service of ALL.filter((name) => name !== 'hook-registry')) await stack.restart(service);
    const acc = await stack.account('advanced', 'ops@horizon-fault.test');
    await stack.registryApplied('dispatcher', 'email-notifier', 'ingest-gateway', 'load-simulator');
    const integration = await stack.call<{ webhook_url: string; schema: string }>('ingest-gateway', 'POST', '/v1/integrations', acc.key, { name: 'horizon', destination_id: acc.destinationId, primary_key: 'id' });
    expect(integration.status).toBe(201);
    const explain = async () => `emails ${sink.received.length}; deadletter ${await streamCount(s.nc, s.ns, 'DEADLETTER').catch(() => -1)}\n${stack.tails(20)}`;

    // 1. A 5,000-deep message on every consumed subject, REGISTRY included.
    const poison = hostile(acc.id);
    for (const [subject, body] of poison) await rawNatsPublish(s.nats.url, `${s.ns}.${subject}`, body);
    await waitOrExplain('every hostile message dead-lettered', async () => (await streamCount(s.nc, s.ns, 'DEADLETTER')) >= poison.length, 30_000, explain);

    // 2. Records accepted by the gateway, then Postgres stops before they are loaded.
    const incoming = `${stack.get('ingest-gateway').url}${new URL(integration.body.webhook_url).pathname}`;
    for (let i = 0; i < RECORDS; i += 20) {
      const records = Array.from({ length: 20 }, (_, k) => ({ id: i + k, note: `record ${i + k}` }));
      const res = await fetch(incoming, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
      expect(res.status).toBe(202);
    }
    const outageStart = Date.now();
    await pg.stopServer('fast');
    // 3. The dispatcher's hook.undeliverable (same contract and Nats-Msg-Id scheme), raised as Postgres goes.
    const undeliverable: HookUndeliverableEvent = {
      event_id: 'horizon-event-1',
      event_type: 'table.loaded',
      webhook_id: 'msg_horizon0000000000000000000000001',
      hook_id: 1,
      client_id: acc.id,
      url: 'https://receiver.example.com/hooks',
      integration_name: 'horizon',
      table_name: 'data',
      attempts: 6,
      last_error: 'HTTP 503',
      last_status_code: 503,
      occurred_at: new Date().toISOString(),
    };
    await s.nc.jetstream().publish(`${s.ns}.${Subjects.HookUndeliverable}`, JSON.stringify(undeliverable), { msgID: `undeliverable-${undeliverable.webhook_id}-1` });
    // The outage is the scenario: a fixed time, longer than the horizon.
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - outageStart)));
    await pg.startServer();
    const outageSeconds = (Date.now() - outageStart) / 1000;

    let failure: unknown;
    let loaded = 0;
    // The destination's own database (built-in, on the same private server): rows and the loader's sessions are there.
    const db = new Client({ connectionString: builtInDestinationDatabase(database, acc.destinationId).url });
    try {
      await waitOrExplain('the undeliverable email', () => sink.received.length >= 1, 60_000, explain);
      await db.connect();
      await waitOrExplain(
        `all ${RECORDS} records loaded`,
        async () => (loaded = Number((await db.query(`SELECT count(*) AS n FROM "${integration.body.schema}".data`)).rows[0].n)) >= RECORDS,
        60_000,
        async () => `loaded ${loaded}/${RECORDS}\n${await loaderState(s, db)}\n${await explain()}`,
      );
      // 4. A restarted service replays REGISTRY, the poison in it included.
      await stack.kill('dispatcher');
      await stack.restart('dispatcher');
    } catch (err) {
      failure = err;
    }
    await db.end().catch(() => undefined);

    const parked = await streamMessages(await s.nc.jetstreamManager(), s.ns, 'DEADLETTER');
    const reasons = parked.map((m) => `${m.header.get(DeadLetterHeaders.OriginalSubject)}: ${m.header.get(DeadLetterHeaders.Reason)}`);
    const processes = stack.all();
    const unhandled = await Promise.all(processes.map((p) => metric(p, /^posthooks_unhandled_rejections_total/).catch(() => -1)));
    // The loader counts an outage of where it writes as its destination's (issue 17: the built-in database is on this Postgres).
    const outageRetries = await Promise.all([
      metric(stack.get('email-notifier' as ServiceName), /^posthooks_message_failures_total\{(?=[^}]*kind="outage")/),
      metric(stack.get('load-simulator' as ServiceName), /^posthooks_destination_failures_total\{/),
    ]);
    const exited = processes.filter((p) => p.ended).map((p) => `${p.name} ${p.ended}`);
    const health = await stack.health();
    report({
      name: `hostile messages on 6 subjects, then Postgres down ${outageSeconds.toFixed(0)} s past a ${HORIZON_MS / 1000} s dead-letter horizon`,
      events: RECORDS + 1,
      expected: RECORDS + 1,
      delivered: loaded + sink.received.length,
      duplicates: Math.max(0, sink.received.length - 1),
      lost: RECORDS - Math.min(loaded, RECORDS) + (sink.received.length === 0 ? 1 : 0),
      notes: `counts are records loaded + the undeliverable email; DEADLETTER ${parked.length} (hostile ${poison.length}); outage retries (notifier, loader) ${outageRetries.join(', ')}; processes exited ${exited.length}; unhandled rejections ${unhandled.reduce((a, b) => a + b, 0)}; ${health.ok ? 'all services ready after, dispatcher restarted over the REGISTRY poison' : 'NOT all services ready after'}`,
      seconds: since(s.t0),
    });
    if (failure) throw failure;

    // Each hostile message parked once, with its reason; nothing accepted was dead-lettered by the outage.
    expect(reasons.sort()).toEqual(poison.map(([subject]) => `${subject}: nested deeper than 64 levels`).sort());
    expect(loaded).toBe(RECORDS);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]).toMatchObject({ to: 'ops@horizon-fault.test', subject: 'Unable to Deliver Post Load Notification' });
    // The outage was felt, and retried as one.
    expect(outageRetries.every((n) => n > 0)).toBe(true);
    expect(exited).toEqual([]);
    expect(unhandled).toEqual(processes.map(() => 0));
    expect(health.lines.filter((l) => !l.endsWith('ready 200'))).toEqual([]);
  });
});
