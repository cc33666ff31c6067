import { HookChangedEvent, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { streamMessages, TEST_SECRETS_KEY } from '@posthooks/testing';
import { SecretBox } from '@posthooks/webhooks';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { Client } from 'pg';
import { Registry } from './registry-harness';

/**
 * Issue 15 item 2: a store written before encryption (secrets in clear in Postgres) is
 * sealed when the registry starts, before it answers, and the hook's sealed state is
 * published; a registry started again finds nothing left to reseal.
 */
describe('resealing hook secrets at start', () => {
  const box = new SecretBox(TEST_SECRETS_KEY);

  it('seals secrets stored in clear, publishes the hook sealed, and leaves sealed ones alone', async () => {
    let r = await Registry.start('registry_reseal');
    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    try {
      const a = await r.account();
      const h = await r.hook(a.key, await r.destination(a.key));
      const untouched = await r.hook(a.key, await r.destination(a.key));
      await r.published();
      await r.stop();

      // As an older registry stored it.
      await pg.query('UPDATE hook_registry.hook_secrets SET secret = $2 WHERE hook_id = $1', [h.id, h.secret]);
      const before = (await pg.query<{ secret: string }>('SELECT secret FROM hook_registry.hook_secrets WHERE hook_id = $1', [untouched.id])).rows[0].secret;

      r = await Registry.start('registry_reseal');
      const rows = (await pg.query<{ hook_id: number; secret: string }>('SELECT hook_id, secret FROM hook_registry.hook_secrets WHERE hook_id = ANY($1) ORDER BY hook_id', [[h.id, untouched.id]])).rows;
      expect(rows.map((row) => [row.hook_id, row.secret.startsWith(`enc:v1:${box.keyId}:`)])).toEqual([
        [h.id, true],
        [untouched.id, true],
      ]);
      expect(box.open(rows[0].secret)).toBe(h.secret);
      expect(rows[1].secret).toBe(before);

      await r.published();
      const nc = await connect({ servers: r.env.NATS_URL });
      const naming = new NatsNaming(r.env.NATS_NAMESPACE);
      const events = (await streamMessages(await nc.jetstreamManager(), naming.namespace, 'REGISTRY', Subjects.HookChanged)).map((m) => m.json<HookChangedEvent & { changed_by: string }>());
      await nc.close();
      const resealed = events.filter((e) => e.hook_id === h.id);
      // The stream keeps the hook's last message only (compacted): the resealed state.
      expect(resealed.map((e) => e.changed_by)).toEqual(['system']);
      expect(box.open(resealed[0].secrets[0].secret)).toBe(h.secret);
      expect(events.filter((e) => e.hook_id === untouched.id)).toHaveLength(1);
      const audit = await pg.query('SELECT actor, action FROM hook_registry.audit_log WHERE object_id = $1 AND object_type = $2 ORDER BY id', [h.id, 'hook']);
      expect(audit.rows).toEqual([
        { actor: 'owner', action: 'hook.created' },
        { actor: 'system', action: 'hook.secrets_resealed' },
      ]);
    } finally {
      await r.stop();
      await pg.end();
    }
  });

  it('reseals custom header values under a new SECRETS_KEY and publishes the hook with them, names and order kept', async () => {
    const next = randomBytes(32).toString('base64');
    const nextBox = new SecretBox(next);
    let r = await Registry.start('registry_reseal_headers');
    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    try {
      const a = await r.account();
      const h = await r.hook(a.key, await r.destination(a.key));
      const set = await r.call('PUT', `/v1/hooks/${h.id}/settings`, { token: a.key, json: { headers: { 'X-Api-Key': 'k_live_1', Authorization: 'Bearer t_2' } } });
      expect(set.status).toBe(200);
      await r.published();
      await r.stop();

      // The key rotation of the README: the new key seals, the old one only opens.
      r = await Registry.start('registry_reseal_headers', { SECRETS_KEY: next, SECRETS_KEY_PREVIOUS: TEST_SECRETS_KEY });
      const [row] = (await pg.query<{ headers: { name: string; value: string }[] }>('SELECT headers FROM hook_registry.hooks WHERE id = $1', [h.id])).rows;
      expect(row.headers.map((header) => [header.name, header.value.startsWith(`enc:v1:${nextBox.keyId}:`), nextBox.open(header.value)])).toEqual([
        ['X-Api-Key', true, 'k_live_1'],
        ['Authorization', true, 'Bearer t_2'],
      ]);
      await r.published();
      const nc = await connect({ servers: r.env.NATS_URL });
      const naming = new NatsNaming(r.env.NATS_NAMESPACE);
      const events = (await streamMessages(await nc.jetstreamManager(), naming.namespace, 'REGISTRY', Subjects.HookChanged)).map((m) => m.json<HookChangedEvent & { changed_by: string }>());
      await nc.close();
      const last = events.filter((e) => e.hook_id === h.id).at(-1)!;
      expect(last.changed_by).toBe('system');
      expect(last.settings!.headers.map((header) => nextBox.open(header.value))).toEqual(['k_live_1', 'Bearer t_2']);
      // Without the old key now: nothing is left sealed under it, so the registry starts.
      await r.stop();
      r = await Registry.start('registry_reseal_headers', { SECRETS_KEY: next });
      expect((await r.call<{ settings: { headers: object } }>('GET', `/v1/hooks/${h.id}`, { token: a.key })).body.settings.headers).toEqual({ 'X-Api-Key': '***', Authorization: '***' });
    } finally {
      await r.stop();
      await pg.end();
    }
  });
});
