import { createServer, Server } from 'node:https';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { HttpsReceiver, Reaction } from '@posthooks/testing';
import { generateSigningSecret } from '@posthooks/webhooks';
import { Webhook } from 'standardwebhooks';
import { Logger } from '@nestjs/common';
import { WebhookSender } from '../src/delivery/webhook-sender';

/** One attempt of the sender (axios over its https adapter) against real HTTPS receivers. */
describe('WebhookSender', () => {
  const tlsDir = process.env.POSTHOOKS_TEST_TLS_DIR as string;
  const receivers: HttpsReceiver[] = [];
  let sender: WebhookSender;
  const secret = generateSigningSecret();
  const receiver = async (react: (n: number) => Reaction) => {
    const rx = await HttpsReceiver.start({ react });
    receivers.push(rx);
    return rx;
  };
  const send = (url: string, body = '{"event_type":"ping"}') => sender.send({ url, webhookId: 'msg_0123456789abcdef0123456789abcdef', body, secrets: [secret] });

  beforeAll(() => {
    // The sender trusts this run's throwaway CA the way the dispatcher does in development.
    process.env.NODE_EXTRA_CA_CERTS = `${tlsDir}/ca.pem`;
    sender = new WebhookSender({ timeoutMs: 1500, allowPrivateTargets: true, userAgent: 'posthooks/test', maxSocketsPerHost: 4 });
  });
  afterAll(() => Promise.all(receivers.map((r) => r.close())));

  it('posts the body once with verifiable Standard Webhooks headers, and reads the answer', async () => {
    const rx = await receiver(() => ({ status: 204 }));
    const result = await send(rx.url());
    expect(result).toMatchObject({ ok: true, statusCode: 204, error: null, responseBody: '' });
    expect(rx.requests).toHaveLength(1);
    const [req] = rx.requests;
    expect(req.headers['content-length']).toBe(String(Buffer.byteLength(req.body)));
    expect(new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).toEqual({ event_type: 'ping' });
  });

  it('keeps the first 4 KiB of a failed answer, and parses Retry-After of a 429', async () => {
    const rx = await receiver((n) => (n === 0 ? { status: 500, body: 'e'.repeat(10_000) } : { status: 429, headers: { 'retry-after': '7' } }));
    expect(await send(rx.url())).toMatchObject({ ok: false, statusCode: 500, error: 'HTTP 500', responseBody: 'e'.repeat(4096) });
    expect(await send(rx.url())).toMatchObject({ ok: false, statusCode: 429, retryAfterMs: 7000 });
  });

  it('does not follow a redirect', async () => {
    const target = await receiver(() => ({ status: 200 }));
    const rx = await receiver(() => ({ status: 302, headers: { location: target.url() } }));
    expect(await send(rx.url())).toMatchObject({ ok: false, statusCode: 302, error: 'redirect (302) not followed' });
    expect(target.requests).toHaveLength(0);
  });

  it('retries a reset connection within the attempt (axios-retry), and gives up after two retries', async () => {
    const flaky = await receiver((n) => (n === 0 ? 'reset' : { status: 200 }));
    expect(await send(flaky.url())).toMatchObject({ ok: true, statusCode: 200 });
    expect(flaky.requests).toHaveLength(2);
    const dead = await receiver(() => 'reset');
    const result = await send(dead.url());
    expect(result).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/ECONNRESET|socket hang up/) });
    expect(dead.requests).toHaveLength(3);
  });

  it('ends an attempt at its deadline, whether the receiver is silent or trickles its answer', async () => {
    const silent = await receiver(() => 'hang');
    const quiet = await send(silent.url());
    expect(quiet).toMatchObject({ ok: false, statusCode: null, error: 'timeout after 1500 ms' });
    expect(quiet.durationMs).toBeGreaterThanOrEqual(1400);
    expect(quiet.durationMs).toBeLessThan(4000);

    // Headers at once, then a byte every 100 ms: an idle timeout would never fire.
    const trickle = await startTrickler(tlsDir);
    try {
      const slow = await send(`https://localhost:${(trickle.address() as AddressInfo).port}/`);
      expect(slow).toMatchObject({ ok: false, error: 'timeout after 1500 ms' });
      expect(slow.durationMs).toBeLessThan(4000);
    } finally {
      trickle.closeAllConnections();
      trickle.close();
    }
  });

  it('ends an attempt still waiting for a free connection at its own deadline', async () => {
    // Four sockets per host (the sender's maxSocketsPerHost), six attempts to a receiver that never answers.
    const silent = await receiver(() => 'hang');
    const results = await Promise.all(Array.from({ length: 6 }, () => send(silent.url())));
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, error: 'timeout after 1500 ms' });
      expect(result.durationMs).toBeLessThan(2500);
    }
    expect(silent.requests.length).toBeLessThanOrEqual(4);
  });

  it('holds at most maxSocketsPerHost connections to a host, and reuses them', async () => {
    const counting = await startCountingServer(tlsDir);
    try {
      const url = `https://localhost:${(counting.server.address() as AddressInfo).port}/`;
      const burst = await Promise.all(Array.from({ length: 12 }, () => send(url)));
      expect(burst.every((r) => r.ok)).toBe(true);
      for (let i = 0; i < 4; i++) expect(await send(url)).toMatchObject({ ok: true, responseBody: 'ok' });
      expect(counting.stats).toMatchObject({ requests: 16, maxInFlight: 4 });
      expect(counting.stats.connections).toBeLessThanOrEqual(4);
    } finally {
      counting.server.closeAllConnections();
      counting.server.close();
    }
  });

  it('refuses a private target, by name or literal, before connecting, unless private targets are allowed', async () => {
    const strict = new WebhookSender({ timeoutMs: 1500, allowPrivateTargets: false, userAgent: 'posthooks/test', maxSocketsPerHost: 4 });
    const rx = await receiver(() => ({ status: 200 }));
    const webhook = { webhookId: 'msg_0123456789abcdef0123456789abcdef', body: '{}', secrets: [secret] };
    // The tenant's error names no address (SPEC §5); the service log gets it.
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      for (const url of [rx.url(), `https://127.0.0.1:${rx.port}/hook`, `https://[::1]:${rx.port}/hook`]) {
        expect(await strict.send({ ...webhook, url })).toEqual({ ok: false, statusCode: null, error: 'target address not allowed', durationMs: expect.any(Number), responseBody: null });
      }
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        expect.stringMatching(new RegExp(`^target address not allowed: localhost:${rx.port} -> (127\\.0\\.0\\.1|::1): loopback address$`)),
        `target address not allowed: 127.0.0.1:${rx.port} -> 127.0.0.1: loopback address`,
        `target address not allowed: [::1]:${rx.port} -> ::1: loopback address`,
      ]);
    } finally {
      warn.mockRestore();
    }
    expect(rx.requests).toHaveLength(0);
    expect(await send(rx.url())).toMatchObject({ ok: true });
  });

  it('fails on a certificate nobody trusts without sending the body', async () => {
    const rx = await HttpsReceiver.start({ tls: 'untrusted' });
    receivers.push(rx);
    const result = await send(rx.url());
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/certificate/i);
    expect(rx.requests).toHaveLength(0);
  });
});

/** A receiver answering 200 after 20 ms that counts TLS connections, requests and the most requests in flight at once. */
async function startCountingServer(tlsDir: string): Promise<{ server: Server; stats: { connections: number; requests: number; maxInFlight: number } }> {
  const stats = { connections: 0, requests: 0, maxInFlight: 0 };
  let inFlight = 0;
  const server = createServer({ cert: readFileSync(`${tlsDir}/trusted.pem`), key: readFileSync(`${tlsDir}/trusted.key`), keepAlive: true }, (req, res) => {
    stats.requests++;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    req.resume();
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }, 20);
  });
  server.on('secureConnection', () => stats.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, stats };
}

async function startTrickler(tlsDir: string): Promise<Server> {
  const server = createServer({ cert: readFileSync(`${tlsDir}/trusted.pem`), key: readFileSync(`${tlsDir}/trusted.key`) }, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('.'), 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
