import { HookChangedEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { PrivateNatsServer, streamMessages, waitFor } from '@posthooks/testing';
import { connect } from 'nats';
import { Client } from 'pg';
import { HOOKS, Registry } from './registry-harness';

/**
 * Issue 13, item 4: a NATS outage is not a poison event. Changes made while NATS is down
 * stay queued (none set aside) and reach the stream, in order, once it is back.
 */
describe('the outbox relay during a NATS outage', () => {
  let nats: PrivateNatsServer;
  let r: Registry;
  const logged: string[] = [];
  const write = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    nats = await PrivateNatsServer.start();
    r = await Registry.start('registry_relay_outage', { NATS_URL: nats.url });
  });
  afterAll(async () => {
    await r?.stop();
    await nats?.dispose();
    jest.restoreAllMocks();
  });

  it('retries in order, sets nothing aside, and publishes everything once NATS is back', async () => {
    const a = await r.account();
    const h = await r.hook(a.key, await r.destination(a.key));
    await r.published();
    const naming = new NatsNaming(r.env.NATS_NAMESPACE);
    const lastSeq = async () => {
      const c = await connect({ servers: nats.url });
      try {
        return (await (await c.jetstreamManager()).streams.info(naming.stream('REGISTRY'))).state.last_seq;
      } finally {
        await c.close();
      }
    };
    const before = await lastSeq();

    await nats.stop();
    for (let i = 0; i < 3; i++) {
      const res = await r.call<{ secret: string }>('POST', `/v1/hooks/${h.id}/rotate-secret`, { token: a.key });
      expect(res.status).toBe(200);
    }
    expect((await r.call('DELETE', `${HOOKS}/${h.id}`, { token: a.key })).status).toBe(200);
    await waitFor('the relay to fail on the outage', () => logged.some((line) => line.includes('outbox not published yet')), { timeoutMs: 30_000 });

    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    const { rows } = await pg.query('SELECT count(*)::int AS queued, count(set_aside_at)::int AS set_aside FROM hook_registry.outbox');
    await pg.end();
    expect(rows[0]).toEqual({ queued: 4, set_aside: 0 });

    await nats.restart();
    await r.published();

    // Each of the 4 changes published once (no set-aside, no duplicate), the deletion last:
    // the stream keeps the hook's last message only (compacted), and that is the deletion.
    expect((await lastSeq()) - before).toBe(4);
    const nc = await connect({ servers: nats.url });
    try {
      const messages = (await streamMessages(await nc.jetstreamManager(), naming.namespace, 'REGISTRY', Subjects.HookChanged)).filter((m) => m.json<HookChangedEvent>().hook_id === h.id);
      expect(messages.map((m) => [m.seq, m.json<HookChangedEvent>().deleted, m.json<HookChangedEvent>().secrets])).toEqual([[before + 4, true, []]]);
    } finally {
      await nc.close();
    }
  });
});
