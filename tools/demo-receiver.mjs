#!/usr/bin/env node
// The demo HTTPS receiver `npm start` runs beside the services, so the walk-through ends
// with a webhook on screen: https://localhost:4000/<any path>. It prints each webhook it
// gets and whether its Standard Webhooks signature verified, with the secrets of the
// hook(s) registered for that URL, which it learns from the REGISTRY stream as the
// dispatcher does. Development only: its certificate comes from a throwaway CA in .demo/.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect } from 'nats';
import { Webhook } from 'standardwebhooks';
import { demoTls } from './demo-tls.mjs';

const PORT = Number(process.env.DEMO_RECEIVER_PORT ?? 4000);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ns = process.env.NATS_NAMESPACE ?? '';
const stream = ns ? `${ns.toUpperCase()}_REGISTRY` : 'REGISTRY';
const hookChanged = `${ns ? `${ns}.` : ''}registry.hook.changed`;

/** url → { hookId → secrets } from the hooks' latest state. */
const secretsByUrl = new Map();
function apply(hook) {
  for (const hooks of secretsByUrl.values()) delete hooks[hook.hook_id];
  if (hook.deleted) return;
  const hooks = secretsByUrl.get(hook.url) ?? {};
  hooks[hook.hook_id] = hook.secrets;
  secretsByUrl.set(hook.url, hooks);
}

async function followHooks() {
  const nc = await connect({ servers: NATS_URL.split(',') });
  const consumer = await nc.jetstream().consumers.get(stream);
  for await (const msg of await consumer.consume()) if (msg.subject === hookChanged) apply(msg.json());
}

function verify(url, body, headers) {
  const now = Date.now();
  for (const [hookId, secrets] of Object.entries(secretsByUrl.get(url) ?? {})) {
    for (const { secret, expires_at } of secrets) {
      if (expires_at && Date.parse(expires_at) < now) continue;
      try {
        new Webhook(secret).verify(body, headers);
        return `signature verified (hook ${hookId})`;
      } catch {
        /* try the next secret */
      }
    }
  }
  return secretsByUrl.has(url) ? 'signature DID NOT verify' : 'no hook is registered for this URL, cannot verify';
}

const tls = demoTls();
createServer({ cert: readFileSync(tls.trusted.cert), key: readFileSync(tls.trusted.key) }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = `https://localhost:${PORT}${req.url}`;
    let summary = `${req.method} ${req.url}`;
    try {
      const e = JSON.parse(body);
      const rows = (e.tables ?? []).reduce((n, t) => n + (t.num_rows ?? 0), 0);
      // A load.started names its table in `tables` only, and has no rows yet.
      const table = e.source_root_table_name ?? e.tables?.[0]?.source_table_name;
      const what = e.event_type === 'load.started' ? 'started' : `${rows} rows`;
      summary = `${e.event_type} ${e.integration_name}.${table} (${what}${e.sequence !== undefined ? `, sequence ${e.sequence}` : ''}) for client ${e.client_id}`;
    } catch {
      /* not JSON: print the request line */
    }
    console.log(`webhook ${req.headers['webhook-id'] ?? '(no id)'}: ${summary}: ${verify(url, body, req.headers)}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
}).listen(PORT, () => console.log(`demo receiver on https://localhost:${PORT}/ (any path); register a hook with this URL`));

// The services create the REGISTRY stream as they start: until then, try again.
async function followHooksWhenReady() {
  for (;;) {
    try {
      return await followHooks();
    } catch (err) {
      console.error(`demo receiver waits for the REGISTRY stream at ${NATS_URL}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
void followHooksWhenReady();
