import { createServer, Server } from 'node:http';

/**
 * What answers on the service's port while the app starts (connecting, waiting for a
 * JetStream cluster to form, provisioning streams, migrations: up to minutes, SPEC §1):
 * `/health/live` 200 (the process is alive: no restart), `/health/ready` 503 (no traffic
 * yet), anything else 503 with a contract error. Closed just before the app listens.
 */
export async function listenWhileStarting(port: number, host: string | undefined): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const [status, body] =
      path === '/health/live'
        ? [200, { status: 'ok' }]
        : path === '/health/ready'
          ? [503, { status: 'error', error: { start: { status: 'down', message: 'starting: waiting for NATS JetStream and the database' } } }]
          : [503, { error: 'the service is starting' }];
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(status === 503 ? { 'retry-after': '5' } : {}) });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (host === undefined) server.listen(port, resolve);
    else server.listen(port, host, resolve);
  });
  return () => close(server);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Probes keep their connections alive: drop them so the port is free for the app.
    server.closeAllConnections();
  });
}
