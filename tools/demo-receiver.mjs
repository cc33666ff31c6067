#!/usr/bin/env node
// The demo HTTPS receiver `npm start` runs beside the services, so the walk-through ends
// with a webhook on screen: https://localhost:4000/<any path>. It prints each webhook it
// gets and whether its Standard Webhooks signature verified, with the secrets of the
// hook(s) registered for that URL, which it learns from the REGISTRY stream as the
// dispatcher does (sealed: it opens them with SECRETS_KEY, which `npm start` gives it).
// Development only: its certificate comes from a throwaway CA in .demo/.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'nats';
import { Webhook } from 'standardwebhooks';
import { demoTls } from './demo-tls.mjs';

// The services' own SecretBox, from the build `npm start` makes first.
const { SecretBox } = createRequire(import.meta.url)('../dist/libs/webhooks/src/secret-box.js');
const secretBox = process.env.SECRETS_KEY ? new SecretBox(process.env.SECRETS_KEY, process.env.SECRETS_KEY_PREVIOUS ?? '') : undefined;

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
  // Each hook on a subject of its own (`registry.hook.changed.42`); the plain one from an older registry.
  for await (const msg of await consumer.consume()) if (msg.subject === hookChanged || msg.subject.startsWith(`${hookChanged}.`)) apply(msg.json());
}

/** A signing secret as REGISTRY carries it: sealed under SECRETS_KEY (or in clear, from an older registry). */
function openSecret(secret) {
  if (secret.startsWith('whsec_') || !secretBox) return secret;
  try {
    return secretBox.open(secret);
  } catch {
    return undefined; // sealed under another key: this one cannot verify with it
  }
}

/** One line about a webhook, whatever its event type. */
function describe(e) {
  const table = `${e.integration_name}.${e.source_root_table_name ?? e.tables?.[0]?.source_table_name ?? '?'}`;
  const order = e.sequence === undefined ? '' : `, sequence ${e.sequence}`;
  switch (e.event_type) {
    case 'ping':
      return `ping for hook ${e.hook_id} of client ${e.client_id}`;
    case 'load.started':
      return `load.started ${table} for client ${e.client_id} at ${e.started_at}${order}`;
    case 'table.loaded':
    case 'table.rejected': {
      const rows = (e.tables ?? []).reduce((n, t) => n + (t.num_rows ?? 0), 0);
      const rejected = (e.tables ?? []).reduce((n, t) => n + (t.num_rows_rejected ?? 0), 0);
      return `${e.event_type} ${table} (${rows} rows, ${rejected} rejected) for client ${e.client_id}${order}`;
    }
    default:
      return `${e.event_type ?? 'an event without event_type'} for client ${e.client_id}`;
  }
}

function verify(url, body, headers) {
  const now = Date.now();
  for (const [hookId, secrets] of Object.entries(secretsByUrl.get(url) ?? {})) {
    for (const { secret, expires_at } of secrets) {
      if (expires_at && Date.parse(expires_at) < now) continue;
      const opened = openSecret(secret);
      if (!opened) continue;
      try {
        new Webhook(opened).verify(body, headers);
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
      summary = describe(JSON.parse(body));
    } catch {
      /* not JSON: print the request line */
    }
    console.log(`webhook ${req.headers['webhook-id'] ?? '(no id)'}: ${summary}: ${verify(url, body, req.headers)}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
}).listen(PORT, () => console.log(`demo receiver on https://localhost:${PORT}/ (any path); register a hook with this URL`));

// The services create the REGISTRY stream as they start: until then, try again.
async function followHooksWhenReady() {
  for (let said = false; ; said = true) {
    try {
      return await followHooks();
    } catch (err) {
      // Said once: the registry creates the stream within seconds of its start.
      if (!said) console.error(`demo receiver waits for the REGISTRY stream at ${NATS_URL}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
void followHooksWhenReady();
