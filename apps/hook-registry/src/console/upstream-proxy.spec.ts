import express from 'express';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { proxyRequest } from './upstream-proxy';

/** A server on a free local port; closed after each test. */
async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('proxyRequest (the console proxy, over real sockets)', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => (s.closeAllConnections(), s.close(resolve)))));
  });

  /** The registry side: every request proxied to `upstream`, with a timeout. */
  const proxyTo = async (upstream: string, timeoutMs = 5000) => {
    const app = express();
    app.all('/{*path}', (req, res) => proxyRequest(req, res, { base: upstream, pathAndQuery: req.originalUrl, timeoutMs, trustProxy: false, service: 'dispatcher' }));
    const proxy = await listen(app);
    servers.push(proxy.server);
    return proxy.url;
  };

  it('Test scenario: streams a large body both ways, passes Authorization and the content type, drops cookies, adds X-Forwarded-For', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const upstream = await listen((req, res) => {
      seen = req.headers;
      res.writeHead(201, { 'content-type': 'application/octet-stream', 'set-cookie': 'a=b', 'x-internal': 'no' });
      req.pipe(res);
    });
    servers.push(upstream.server);
    const body = Buffer.alloc(5 * 1024 * 1024, 'x');
    const res = await fetch(`${await proxyTo(upstream.url)}/v1/echo?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer phk_secret', 'content-type': 'application/octet-stream', cookie: 'session=1', 'x-forwarded-for': '203.0.113.9' },
      body,
    });
    const echoed = Buffer.from(await res.arrayBuffer());
    expect([res.status, echoed.length, echoed.equals(body)]).toEqual([201, body.length, true]);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-internal')).toBeNull();
    expect(seen.authorization).toBe('Bearer phk_secret');
    expect(seen.cookie).toBeUndefined();
    // Without TRUST_PROXY a client's own X-Forwarded-For proves nothing: the socket's address goes on.
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('Test scenario: an upstream that never answers is a 504 after the timeout, in the contract shape', async () => {
    const upstream = await listen(() => undefined);
    servers.push(upstream.server);
    const started = Date.now();
    const res = await fetch(`${await proxyTo(upstream.url, 300)}/v1/hooks/1/deliveries`);
    expect([res.status, await res.json()]).toEqual([504, { error: 'dispatcher did not answer in time' }]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('Test scenario: an upstream that is down is a 502 naming the service, not its address', async () => {
    const down = await listen(() => undefined);
    const url = down.url;
    await new Promise((resolve) => down.server.close(resolve));
    const res = await fetch(`${await proxyTo(url)}/v1/hooks/1/deliveries`);
    expect([res.status, await res.json()]).toEqual([502, { error: 'dispatcher is not reachable' }]);
  });

  it('Test scenario: a client that hangs up closes the upstream request too', async () => {
    let upstreamClosed = false;
    let arrived = false;
    const upstream = await listen((req) => {
      arrived = true;
      req.socket.on('close', () => (upstreamClosed = true));
    });
    servers.push(upstream.server);
    const proxy = await proxyTo(upstream.url);
    const controller = new AbortController();
    const pending = fetch(`${proxy}/v1/hooks/1/deliveries`, { signal: controller.signal }).catch(() => undefined);
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
    };
    await until(() => arrived);
    controller.abort();
    await pending;
    await until(() => upstreamClosed);
    expect(upstreamClosed).toBe(true);
  });
});
