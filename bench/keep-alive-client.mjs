// A lean HTTP/1.1 client for load loops: keep-alive sockets, one request in flight per
// socket, the request written in one piece and the answer read by Content-Length.
//
// Why not node:http: the load generator runs on the same 2 cores as the services it
// measures, and node's client (agent, IncomingMessage streams, header objects) cost about
// 90 µs of CPU per request in bench:ingest, 20 % of the machine at ~2,300 posts/s. This
// one costs a fraction of that, so the bench measures the server rather than the client.
// It only speaks what the bench needs: answers with a Content-Length (every answer of our
// services), `Connection: close` honoured by opening a new socket next time.
import net from 'node:net';

/**
 * `const post = keepAliveClient(url)`, then `post(body)` → `{ status, body }` (a string),
 * sent as `POST <url's path>` with `Content-Type: application/json`. Sockets are reused;
 * as many are opened as requests are in flight at once.
 */
export function keepAliveClient(url, { method = 'POST', headers = {} } = {}) {
  const { hostname, port, pathname, search, host } = new URL(url);
  const head = Object.entries({ 'content-type': 'application/json', ...headers }).reduce((h, [k, v]) => `${h}${k}: ${v}\r\n`, `${method} ${pathname}${search} HTTP/1.1\r\nHost: ${host}\r\n`);
  const idle = [];
  const send = (body) =>
    new Promise((resolve, reject) => {
      let conn = idle.pop();
      while (conn?.closed) conn = idle.pop(); // closed by the server while idle
      conn ??= open(hostname, Number(port || 80));
      conn.await(resolve, reject, (reusable) => reusable && idle.push(conn));
      conn.socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  send.close = () => idle.splice(0).forEach((c) => c.socket.destroy());
  return send;
}

function open(host, port) {
  const socket = net.connect({ host, port, noDelay: true });
  let waiting; // { resolve, reject, done }
  let buf = Buffer.alloc(0);
  let closed = false;
  const fail = (err) => {
    closed = true;
    const w = waiting;
    waiting = undefined;
    w?.reject(err);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed before the answer')));
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    let length;
    let keepAlive = true;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      const name = lines[i].slice(0, colon).toLowerCase();
      const value = lines[i].slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'connection' && value.toLowerCase() === 'close') keepAlive = false;
      else if (name === 'transfer-encoding') return fail(new Error(`keep-alive-client: Transfer-Encoding ${value} is not supported`));
    }
    if (length === undefined) return fail(new Error(`keep-alive-client: an answer (${status}) without Content-Length`));
    if (buf.length < end + 4 + length) return;
    const body = buf.toString('utf8', end + 4, end + 4 + length);
    buf = buf.subarray(end + 4 + length);
    const w = waiting;
    waiting = undefined;
    if (!keepAlive) {
      closed = true;
      socket.destroy();
    }
    w.done(!closed);
    w.resolve({ status, body });
  });
  return {
    socket,
    get closed() {
      return closed;
    },
    await(resolve, reject, done) {
      if (closed) return reject(new Error('connection closed'));
      waiting = { resolve, reject, done };
    },
  };
}
