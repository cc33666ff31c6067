#!/usr/bin/env node
// `npm run pub -- <subject> '<json>' [--id <Nats-Msg-Id>]`: what `nats pub` does, for a
// machine without the NATS CLI (neither Debian nor npm ships it). One plain NATS publish
// of the body as given, with a Nats-Msg-Id header when --id is given (the stream then
// drops a second publish under the same id), so the walk-through's
//   nats pub table.loaded '{"client_id":1,"integration_name":"shopify","table_name":"orders"}'
// becomes
//   npm run pub -- table.loaded '{"client_id":1,"integration_name":"shopify","table_name":"orders"}'
// It reads NATS_URL (default nats://127.0.0.1:4222), NATS_USER/NATS_PASSWORD or NATS_CREDS,
// and NATS_NAMESPACE (the prefix tests give their subjects) like the services.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, headers as natsHeaders } from 'nats';

const USAGE = `usage: npm run pub -- <subject> '<json>' [--id <Nats-Msg-Id>]
  e.g. npm run pub -- table.loaded '{"client_id":1,"integration_name":"shopify","table_name":"orders","num_rows":100}'`;
/** A subject to publish to: tokens of visible characters, no wildcards. */
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

export function parseArgs(args) {
  const rest = [...args];
  let id;
  const at = rest.indexOf('--id');
  if (at !== -1) {
    id = rest[at + 1];
    if (id === undefined || id === '') return { error: '--id needs a value' };
    rest.splice(at, 2);
  }
  if (rest.length !== 2) return { error: 'a subject and a body are needed' };
  const [subject, body] = rest;
  if (!SUBJECT.test(subject)) return { error: `not a subject to publish to: ${subject}` };
  return { subject, body, id };
}

function authOptions(env) {
  if (env.NATS_CREDS) return { authenticator: credsAuthenticator(readFileSync(env.NATS_CREDS)) };
  if (env.NATS_USER) return { user: env.NATS_USER, pass: env.NATS_PASSWORD ?? '' };
  return {};
}

async function main(args, env = process.env) {
  const parsed = parseArgs(args);
  if (parsed.error) {
    console.error(`${parsed.error}\n${USAGE}`);
    return 2;
  }
  const { subject, body, id } = parsed;
  try {
    JSON.parse(body);
  } catch {
    // Sent anyway, as `nats pub` would: the consumer dead-letters it with the reason.
    console.error('warning: the body is not JSON; a posthooks service will move it to DEADLETTER');
  }
  const url = env.NATS_URL || 'nats://127.0.0.1:4222';
  let nc;
  try {
    nc = await connect({ servers: url.split(','), timeout: 5000, reconnect: false, ...authOptions(env) });
  } catch (err) {
    console.error(`NATS is not reachable at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${err.message}`);
    return 1;
  }
  try {
    const full = env.NATS_NAMESPACE ? `${env.NATS_NAMESPACE}.${subject}` : subject;
    let h;
    if (id !== undefined) {
      h = natsHeaders();
      h.set('Nats-Msg-Id', id);
    }
    // A publish the server refuses (permissions) is reported on the status stream, before the flush's answer.
    let refused;
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') refused = s.data;
    })();
    const data = new TextEncoder().encode(body);
    nc.publish(full, data, h ? { headers: h } : undefined);
    await nc.flush();
    if (refused) throw refused;
    console.log(`Published ${data.length} bytes to "${full}"`);
    return 0;
  } catch (err) {
    console.error(`publish failed: ${err.message}`);
    return 1;
  } finally {
    await nc.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
