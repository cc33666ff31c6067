import type { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; body: Buffer } | { ok: false; tooLarge: true };

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the
 * limit is refused before reading anything; a body that grows past it is refused as
 * soon as it does, so a huge body is never held in memory whole.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.resolve({ ok: false, tooLarge: true });
  return new Promise((resolve, reject) => {
    // With a declared length the body is copied into one buffer as it arrives: a list of
    // chunks joined at the end would hold it twice.
    const whole = Number.isInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit || (whole && size + chunk.length > whole.length)) {
        req.off('data', onData);
        req.pause();
        resolve({ ok: false, tooLarge: true });
        return;
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    req.on('data', onData);
    req.once('end', () => size <= limit && resolve({ ok: true, body: whole ? whole.subarray(0, size) : Buffer.concat(chunks, size) }));
    req.once('error', reject);
  });
}
