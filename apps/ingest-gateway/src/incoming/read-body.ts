import type { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; body: Buffer } | { ok: false; tooLarge: true } | { ok: false; gone: true };

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the
 * limit is refused before reading anything; a body that grows past it is refused as
 * soon as it does, so a huge body is never held in memory whole. A request whose client
 * went away (before or while it is read) ends the read as `gone`: it never hangs.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve({ ok: false, tooLarge: true });
  if (req.destroyed || req.readableAborted) return Promise.resolve({ ok: false, gone: true });
  return new Promise((resolve, reject) => {
    // With a declared length the body is copied into one buffer as it arrives: a list of
    // chunks joined at the end would hold it twice.
    const whole = Number.isInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit || (whole && size + chunk.length > whole.length)) {
        stop();
        req.pause();
        resolve({ ok: false, tooLarge: true });
        return;
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => {
      stop();
      resolve({ ok: true, body: whole ? whole.subarray(0, size) : Buffer.concat(chunks, size) });
    };
    // 'close' before 'end': the connection died mid-body.
    const onClose = () => {
      stop();
      resolve({ ok: false, gone: true });
    };
    const onError = (err: Error) => {
      stop();
      if (req.destroyed) resolve({ ok: false, gone: true });
      else reject(err);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onError);
  });
}

/**
 * Reads and drops what is left of a request body, up to `maxBytes` or `maxMs`, whichever
 * comes first; resolves then, or when the body ends or the client goes away. Used after
 * an early answer (413, 404...) so that the client, still sending, gets to read it: a
 * server that closes a connection with unread bytes makes the kernel reset it, and the
 * client then sees `EPIPE` or `ECONNRESET` instead of the answer (Node's fetch retries
 * that as a network error).
 */
export function discardBody(req: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let dropped = 0;
    const timer = setTimeout(done, maxMs);
    function onData(chunk: Buffer) {
      dropped += chunk.length;
      if (dropped > maxBytes) done();
    }
    function done() {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    }
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}
