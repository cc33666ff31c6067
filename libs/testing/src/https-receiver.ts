import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { waitFor } from './wait-for';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver does with the n-th request (0-based): answer, hang, or reset. */
export type Reaction = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'reset' | 'hang';

/**
 * A real HTTPS webhook receiver on 127.0.0.1 with a certificate of this test run's
 * throwaway CA (`trusted`), or a self-signed one nobody trusts (`untrusted`).
 */
export class HttpsReceiver {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly requests: ReceivedRequest[],
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: { react?: (n: number, req: ReceivedRequest) => Reaction; tls?: 'trusted' | 'untrusted'; tlsDir?: string } = {}): Promise<HttpsReceiver> {
    const dir = options.tlsDir ?? process.env.POSTHOOKS_TEST_TLS_DIR;
    if (!dir) throw new Error('POSTHOOKS_TEST_TLS_DIR is not set: run tests with `npm test`');
    const which = options.tls ?? 'trusted';
    const react = options.react ?? ((): Reaction => ({ status: 200, body: 'ok' }));
    const requests: ReceivedRequest[] = [];
    const server = createServer({ cert: readFileSync(`${dir}/${which}.pem`), key: readFileSync(`${dir}/${which}.key`), keepAlive: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const n = requests.push(received) - 1;
        const reaction = react(n, received);
        if (reaction === 'reset') return req.socket.destroy();
        if (reaction === 'hang') return;
        setTimeout(() => res.writeHead(reaction.status, reaction.headers).end(reaction.body ?? ''), reaction.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new HttpsReceiver(server, (server.address() as AddressInfo).port, requests);
  }

  url(path = '/hook'): string {
    return `https://localhost:${this.port}${path}`;
  }

  waitForRequests(n: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    return waitFor(`${n} requests at the receiver (got ${this.requests.length})`, () => this.requests.length >= n && this.requests, { timeoutMs });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
