import { connect as tcpConnect } from 'node:net';

/**
 * Publishes exactly the bytes the NATS CLI sends for `nats pub <subject> <body>`:
 * `CONNECT {...}`, `PUB` (or `HPUB` with headers), then `PING` to know the server took it.
 * No client library: this is what proves an operator's publish reaches a handler.
 */
export function rawNatsPublish(natsUrl: string, subject: string, body: string, headers?: Record<string, string>): Promise<void> {
  const { hostname, port } = new URL(natsUrl);
  const payload = Buffer.from(body, 'utf8');
  const connectLine = `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, lang: 'raw', version: '0', headers: true, no_responders: true })}\r\n`;
  let pub: Buffer;
  if (headers && Object.keys(headers).length > 0) {
    const head = Buffer.from(`NATS/1.0\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'utf8');
    pub = Buffer.concat([Buffer.from(`HPUB ${subject} ${head.length} ${head.length + payload.length}\r\n`), head, payload, Buffer.from('\r\n')]);
  } else {
    pub = Buffer.concat([Buffer.from(`PUB ${subject} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
  }

  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port || 4222), hostname);
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no PONG from ${natsUrl}`)));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      if (received.includes('-ERR')) socket.destroy(new Error(`NATS refused the publish: ${received.trim()}`));
      else if (received.includes('PONG')) socket.end(() => resolve());
    });
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(connectLine), pub, Buffer.from('PING\r\n')])));
  });
}
