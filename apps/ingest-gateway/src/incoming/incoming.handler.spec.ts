import { Logger } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { IncomingHandler } from './incoming.handler';
import { IngestService } from './ingest.service';

/** The handler on a bare node:http server, with the lookup and the publish faked. */
describe('IncomingHandler', () => {
  const TOKEN = `whk_${'a'.repeat(43)}`;
  const accept = jest.fn(async (_i: unknown, records: unknown[]) => records.length);
  const ingest = { integrationOf: async (t: string) => (t === TOKEN ? { id: 1 } : undefined), accept } as unknown as IngestService;
  const env = Object.assign(new IngestGatewayEnv(), { MAX_BODY_BYTES: 1000, BODIES_IN_FLIGHT_BYTES: 10_000 });
  const handler = new IncomingHandler(ingest, env);
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => void handler.handle(decodeURIComponent(req.url!.slice(1)), req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  afterEach(() => jest.restoreAllMocks());

  const send = (method: string, token: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: unknown }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: `/${token}`, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers 202 {"accepted":n} with the records handed to the service', async () => {
    const res = await send('POST', TOKEN, '[{"id":1},{"id":2}]');
    expect([res.status, res.body, res.headers['content-type']]).toEqual([202, { accepted: 2 }, 'application/json; charset=utf-8']);
    expect(accept).toHaveBeenLastCalledWith({ id: 1 }, [{ id: 1 }, { id: 2 }], 19);
  });

  it('answers 405 with Allow: POST, and keeps a bodiless request\'s connection open', async () => {
    const res = await send('GET', TOKEN);
    expect([res.status, res.headers.allow, res.headers.connection, res.body]).toEqual([405, 'POST', 'keep-alive', { error: 'method GET is not allowed: POST JSON to this URL' }]);
  });

  it('closes the connection when it answers before reading a body', async () => {
    const res = await send('PUT', TOKEN, '{"id":1}'.padEnd(500));
    expect([res.status, res.headers.connection]).toEqual([405, 'close']);
  });

  it.each([
    ['an unknown token', 'whk_unknown', '{}', undefined, 404, 'unknown or revoked webhook URL'],
    ['another content type', TOKEN, '{}', { 'content-type': 'text/plain' }, 415, 'Content-Type must be application/json'],
    ['a body over MAX_BODY_BYTES', TOKEN, `{"a":"${'x'.repeat(1000)}"}`, undefined, 413, 'body is larger than 1000 bytes'],
    ['invalid JSON', TOKEN, '{"a":', undefined, 400, expect.stringContaining('not valid JSON')],
  ])('answers %s with its error', async (_what, token, body, headers, status, error) => {
    const res = await send('POST', token, body, headers);
    expect([res.status, res.body]).toEqual([status, { error }]);
  });

  it('answers 500 in the contract\'s shape to an unexpected error, and logs it', async () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    accept.mockRejectedValueOnce(new Error('no JetStream ack'));
    const res = await send('POST', TOKEN, '{"id":1}');
    expect([res.status, res.body]).toEqual([500, { error: 'Internal server error' }]);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('no JetStream ack'));
  });
});
