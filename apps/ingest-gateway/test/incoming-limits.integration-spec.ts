import { request as httpRequest } from 'node:http';
import { connect as netConnect, Socket } from 'node:net';
import { ingestRecordsBucket } from '@posthooks/messaging';
import { waitFor } from '@posthooks/testing';
import { IncomingHandler } from '../src/incoming/incoming.handler';
import { Gateway } from './gateway-harness';

/**
 * Issue 13, item 2: bodies at and over the limits, and the byte budget under clients that
 * go away. Against the gateway in-process (real NATS and Postgres).
 */
describe('incoming webhooks at their limits', () => {
  const MAX = 4 * 1024 * 1024;
  let g: Gateway;
  let url: string;

  beforeAll(async () => {
    // A small budget, so a few posts fill it; a short wait for it.
    g = await Gateway.start('gateway_limits', { MAX_BODY_BYTES: String(MAX), BODIES_IN_FLIGHT_BYTES: String(3 * MAX), BODIES_IN_FLIGHT_WAIT_MS: '1500' });
    const acc = await g.account();
    const integration = (await g.api<{ webhook_url: string }>('POST', '/v1/integrations', acc.key, { name: 'limits', destination_id: acc.destinationId })).body;
    url = `${g.url}${new URL(integration.webhook_url).pathname}`;
  });
  afterAll(() => g.stop());

  const { hostname, port } = { hostname: '127.0.0.1', port: () => Number(new URL(g.url).port) };
  const pathOf = () => new URL(url).pathname;
  const budget = () => g.app.get(IncomingHandler).budget;

  /** A POST through node:http, answered or failed; errors after the answer are ignored. */
  const nodePost = (body: Buffer, headers: Record<string, string | number> = {}) =>
    new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = httpRequest({ hostname, port: port(), path: pathOf(), method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('lets Node\'s fetch read the 413 of a body over the limit (no torn-down connection)', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 0x20);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect([res.status, res.headers.get('connection'), await res.json()]).toEqual([413, 'close', { error: `body is larger than ${MAX} bytes` }]);
    }
  });

  it('answers 413 to a declared 5 MiB through node:http, 10 times in a row, never EPIPE', async () => {
    const body = Buffer.from(JSON.stringify({ a: 'x'.repeat(5 * 1024 * 1024) }));
    for (let i = 0; i < 10; i++) expect(await nodePost(body)).toEqual({ status: 413, body: JSON.stringify({ error: `body is larger than ${MAX} bytes` }), connection: 'close' });
  });

  it('keeps reading a refused body while its sender writes it, then closes cleanly (the cause of EPIPE)', async () => {
    // The sender writes a declared 5 MiB in two halves, the second after it read the 413.
    // A server that closes with unread bytes makes the kernel reset the connection: the
    // second half then fails (EPIPE, ECONNRESET), and a sender that had not yet read the
    // answer sees that instead of it.
    const half = Buffer.alloc(2.5 * 1024 * 1024, 0x20);
    const socket = netConnect(port(), hostname);
    const answer = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    const closed = new Promise<string>((resolve) => {
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      socket.once('end', () => resolve('end'));
    });
    socket.write(`POST ${pathOf()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * half.length}\r\n\r\n`);
    socket.write(half);
    expect(await answer).toMatch(/^HTTP\/1\.1 413 /);
    const written = new Promise<string>((resolve) => socket.write(half, (err) => resolve(err ? ((err as NodeJS.ErrnoException).code ?? err.message) : 'written')));
    expect(await written).toBe('written');
    expect(await closed).toBe('end');
    socket.destroy();
  });

  it('lets fetch read the 413 of a streamed body that grows past the limit', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect([res.status, await res.json()]).toEqual([413, { error: `body is larger than ${MAX} bytes` }]);
  });

  it('answers 413 to more than 100,000 records, without parsing them: 1.4 million empty objects', async () => {
    const objects = Buffer.from(`[${Array(1_398_000).fill('{}').join(',')}]`);
    expect(objects.length).toBeLessThanOrEqual(MAX);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: objects });
    expect([res.status, await res.json()]).toEqual([413, { error: 'more than 100000 records in one post' }]);
    const justUnder = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${Array(100_000).fill('{"a":1}').join(',')}]` });
    expect([justUnder.status, await justUnder.json()]).toEqual([202, { accepted: 100_000 }]);
  });

  /** Holds the whole budget: a post that declares 4 MiB and sends a few bytes of it. */
  async function holdBudget(): Promise<Socket> {
    const socket = netConnect(port(), hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST ${pathOf()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX}\r\n\r\n[{"a":1}`);
    await waitFor('the holder to take the whole budget', () => budget().inUse === 3 * MAX);
    return socket;
  }

  it('gives back the reservation of a client that went away while it waited: after 100, a post is 202 at once', async () => {
    const holder = await holdBudget();
    // 100 posts wait for the budget the holder has, then go away.
    const waiting: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const socket = netConnect(port(), hostname);
      await new Promise((r) => socket.once('connect', r));
      socket.write(`POST ${pathOf()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n[{"a":1}]`);
      waiting.push(socket);
    }
    await waitFor('100 posts to wait for the budget', () => budget().waiters === 100);
    for (const socket of waiting) socket.destroy();
    holder.destroy();
    await waitFor('the budget to be free', () => budget().inUse === 0 && budget().waiters === 0);
    const started = Date.now();
    const res = await nodePost(Buffer.from('{"a":2}'));
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers 503 with Retry-After to a post that waited BODIES_IN_FLIGHT_WAIT_MS for the budget', async () => {
    const holder = await holdBudget();
    const started = Date.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":3}' });
    expect([res.status, res.headers.get('retry-after'), await res.json()]).toEqual([503, '1', { error: expect.any(String) }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    holder.destroy();
    expect((await nodePost(Buffer.from('{"a":4}'))).status).toBe(202);
  });

  it('takes one record as large as the body limit allows: it travels by reference, in the object store', async () => {
    const record = { id: 1, big: 'x'.repeat(3_900_000) };
    const before = (await g.ingested()).length;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ id: 0 }, record]) });
    expect([res.status, await res.json()]).toEqual([202, { accepted: 2 }]);
    const messages = (await g.ingested()).slice(before);
    expect(messages.flatMap((m) => m.records)).toEqual([{ id: 0 }]);
    const refs = messages.flatMap((m) => m.record_refs ?? []);
    expect(refs).toHaveLength(1);
    const store = await g.nc.jetstream().views.os(ingestRecordsBucket(g.naming));
    const blob = await store.getBlob(refs[0]);
    expect(JSON.parse(Buffer.from(blob!).toString('utf8'))).toEqual(record);
  });
});
