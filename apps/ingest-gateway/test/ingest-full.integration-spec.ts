import { Streams } from '@posthooks/contracts';
import { waitFor } from '@posthooks/testing';
import { AckPolicy, JetStreamManager, NatsConnection } from 'nats';
import { Gateway } from './gateway-harness';

const MiB = 1024 * 1024;

type Answer = { status: number; retryAfter: string | null; body: unknown };

/** A post of about `kib` KiB of records, each marked with `tag` so the test can find it in INGEST. */
async function post(url: string, tag: string, kib = 100): Promise<Answer> {
  const records = Array.from({ length: kib }, (_, i) => ({ tag, i, pad: 'x'.repeat(1000) }));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

/** Does what the load-simulator does to INGEST: takes every message and acknowledges it. */
async function consumeIngest(nc: NatsConnection, jsm: JetStreamManager, stream: string): Promise<void> {
  await jsm.consumers.add(stream, { durable_name: 'load-simulator', ack_policy: AckPolicy.Explicit }).catch(() => undefined);
  const consumer = await nc.jetstream().consumers.get(stream, 'load-simulator');
  for (let fetches = 0; (await jsm.streams.info(stream)).state.messages > 0; fetches++) {
    if (fetches > 50) throw new Error(`${stream} still holds messages after 50 fetches`);
    for await (const m of await consumer.fetch({ max_messages: 100, expires: 1000 })) await m.ackAck();
  }
}

async function webhookUrl(g: Gateway, acc: { key: string; destinationId: number }, name: string): Promise<string> {
  const created = await g.api<{ webhook_url: string }>('POST', '/v1/integrations', acc.key, { name, destination_id: acc.destinationId });
  expect(created.status).toBe(201);
  return `${g.url}${new URL(created.body.webhook_url).pathname}`;
}

/** SPEC §7: JetStream full, or the integration over its share of INGEST: 503 with Retry-After. */
describe('a full INGEST', () => {
  let g: Gateway;
  afterEach(() => g?.stop());

  it('answers 503 with Retry-After, keeps every post it answered 202, and takes posts again once the loader catches up', async () => {
    // The smallest INGEST a service accepts, and no share: the stream itself fills.
    g = await Gateway.start('gateway_ingest_full', { STREAM_MAX_BYTES_INGEST: String(MiB), INGEST_SHARE: '1' });
    const acc = await g.account();
    const url = await webhookUrl(g, acc, 'orders');

    const accepted: string[] = [];
    let refused: Answer | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const answer = await post(url, `p${i}`);
      if (answer.status === 202) accepted.push(`p${i}`);
      else refused = answer;
    }
    // Refused by JetStream itself (discard new), not by the share.
    expect(refused).toEqual({ status: 503, retryAfter: '5', body: { error: 'too many records are waiting to be loaded; retry later' } });
    expect(accepted.length).toBeGreaterThan(3);

    // Nothing answered 202 is missing, nothing refused was stored.
    const stored = new Set((await g.ingested()).flatMap((m) => m.records.map((r) => r.tag as string)));
    expect([...stored].sort()).toEqual([...accepted].sort());
    // The gateway itself goes on: ready, and its API answers.
    expect((await fetch(`${g.url}/health/ready`)).status).toBe(200);
    await webhookUrl(g, acc, 'customers');

    await consumeIngest(g.nc, g.jsm, g.naming.stream(Streams.INGEST.name));
    await waitFor('posts to be taken again', async () => (await post(url, 'after', 1)).status === 202);
  });

  it('refuses an integration past INGEST_SHARE, on every replica, while another integration still gets 202', async () => {
    // 4 MiB of INGEST, a quarter each: about ten 100 KiB posts per integration.
    const settings = { STREAM_MAX_BYTES_INGEST: String(4 * MiB), INGEST_SHARE: '0.25' };
    g = await Gateway.start('gateway_ingest_share', settings);
    const second = await Gateway.start('gateway_ingest_share', settings);
    try {
      const acc = await g.account();
      const greedy = await webhookUrl(g, acc, 'greedy');
      const other = await webhookUrl(g, acc, 'other');

      let refused: Answer | undefined;
      let accepted = 0;
      for (let i = 0; i < 40 && !refused; i++) {
        const answer = await post(greedy, `g${i}`);
        if (answer.status === 202) accepted++;
        else refused = answer;
      }
      expect(refused).toEqual({ status: 503, retryAfter: '5', body: { error: expect.stringMatching(/this integration has too many records waiting/) } });
      // Its share (1 MiB) and at most one post more: never the whole stream.
      expect(accepted).toBeGreaterThanOrEqual(9);
      expect(accepted).toBeLessThanOrEqual(12);

      // Another integration is not held back by it.
      expect((await post(other, 'o1')).status).toBe(202);
      // The other replica counts the same messages (nats-server's count per subject).
      const otherReplica = (path: string) => `${second.url}${new URL(path).pathname}`;
      const probes: Answer[] = [];
      await waitFor('the second replica to refuse the integration too', async () => {
        probes.push(await post(otherReplica(greedy), 'probe', 1));
        return probes[probes.length - 1].status === 503;
      }).catch((err: Error) => Promise.reject(new Error(`${err.message}; its answers: ${JSON.stringify(probes.slice(-3))}`)));
      expect((await post(otherReplica(other), 'o2')).status).toBe(202);

      // Once the loader has taken them, the integration posts again.
      await consumeIngest(g.nc, g.jsm, g.naming.stream(Streams.INGEST.name));
      await waitFor('the greedy integration to be taken again', async () => (await post(greedy, 'again', 1)).status === 202);
    } finally {
      await second.stop();
    }
  });
});
