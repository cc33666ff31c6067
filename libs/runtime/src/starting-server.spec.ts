import { createServer } from 'node:net';
import { listenWhileStarting } from './starting-server';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('listenWhileStarting', () => {
  it('answers live 200, ready 503 and anything else 503 with a contract error, then frees the port', async () => {
    const port = await freePort();
    const stop = await listenWhileStarting(port, '127.0.0.1');
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/health/ready?x=1')).toMatchObject({ status: 503, body: { status: 'error' } });
    expect(await get('/v1/accounts')).toEqual({ status: 503, body: { error: 'the service is starting' } });
    await stop();
    // The app can take the port at once.
    const again = await listenWhileStarting(port, '127.0.0.1');
    await again();
  });
});
