import { Inject, Injectable, Logger } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { MAX_RECORDS_PER_MESSAGE, simpleError } from '@posthooks/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge } from 'prom-client';
import { StreamFull, STREAM_FULL_RETRY_SECONDS } from '@posthooks/messaging';
import { bodyShape, heapEstimate } from './body-shape';
import { ByteBudget } from './byte-budget';
import { OverShare } from './ingest-share';
import { IngestService } from './ingest.service';
import { isJsonContentType, parseRecords } from './parse-records';
import { discardBody, readBody } from './read-body';

/** The most records one post may hold (SPEC §7's INGEST messages carry at most as many). */
export const MAX_RECORDS_PER_POST = MAX_RECORDS_PER_MESSAGE;
/**
 * After an early answer, what is left of the body is read and dropped for at most this
 * long and this many bytes (see discardBody), then the connection is closed.
 */
const DISCARD_MS = 10_000;
const DISCARD_BYTES = 64 * 1024 * 1024;
/**
 * What any post reserves at least: enough for a small body of any shape (a thousand
 * values), so the usual small post never has to ask twice.
 */
const MIN_RESERVATION = 64 * 1024;

/** The budget as an operator sees it: posts queued for bytes, and bytes taken. One handler per process. */
let current: ByteBudget | undefined;
new Gauge({ name: 'posthooks_ingest_bodies_waiting', help: 'Incoming posts waiting for BODIES_IN_FLIGHT_BYTES', collect() { this.set(current?.waiters ?? 0); } });
new Gauge({ name: 'posthooks_ingest_body_bytes_in_use', help: 'Bytes of BODIES_IN_FLIGHT_BYTES taken by posts being read or handled', collect() { this.set(current?.inUse ?? 0); } });

/**
 * `POST <webhook_url>`: third parties send JSON here (SPEC §7). Written on node:http's own
 * request and response, so the same code answers whether the request came through the
 * fast path (incoming.fast-path.ts, the usual way) or through Express (IncomingController).
 * The body is read by hand, with its limit, rather than by the global JSON parser. The
 * token is never logged.
 */
@Injectable()
export class IncomingHandler {
  /** Bytes of bodies in flight (BODIES_IN_FLIGHT_BYTES); read by tests. */
  readonly budget: ByteBudget;
  private readonly log = new Logger('HTTP');

  constructor(
    private readonly ingest: IngestService,
    @Inject(IngestGatewayEnv) private readonly env: IngestGatewayEnv,
  ) {
    this.budget = new ByteBudget(env.BODIES_IN_FLIGHT_BYTES);
    current = this.budget;
  }

  /**
   * Answers one request for `token` (already percent-decoded). Never rejects: an
   * unexpected error is logged and answered 500 `{"error":"Internal server error"}`, as
   * the app's exception filter (ContractExceptionFilter) does for every other route.
   */
  async handle(token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.receive(token, req, res);
    } catch (err) {
      this.log.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      if (res.headersSent) res.destroy();
      else await refuse(req, res, 500, 'Internal server error');
    }
  }

  private async receive(token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, what: string, headers: Record<string, string> = {}) => refuse(req, res, status, what, headers);
    const tooLarge = () => fail(413, `body is larger than ${this.env.MAX_BODY_BYTES} bytes`);
    if (req.method !== 'POST') return fail(405, `method ${req.method} is not allowed: POST JSON to this URL`, { Allow: 'POST' });
    const integration = await this.ingest.integrationOf(token);
    if (!integration) return fail(404, 'unknown or revoked webhook URL');
    if (!isJsonContentType(req.headers['content-type'])) return fail(415, 'Content-Type must be application/json');

    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.env.MAX_BODY_BYTES) return tooLarge();
    // The client going away ends any wait for the budget (its reservation is not leaked).
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    // Reserved before reading, so TCP holds back the bodies that wait: parsed JSON of a
    // usual shape takes a few times its bytes. A body of many small values asks for more
    // once its shape is known (below).
    let held = 0;
    const reserve = async (bytes: number): Promise<boolean> => {
      const outcome = await this.budget.take(bytes, { timeoutMs: this.env.BODIES_IN_FLIGHT_WAIT_MS, signal: gone.signal });
      if (outcome === 'granted') held += bytes;
      else if (outcome === 'timeout') await fail(503, 'the gateway is busy with other bodies: retry shortly', { 'Retry-After': '1' });
      return outcome === 'granted';
    };
    try {
      if (!(await reserve(Math.max(MIN_RESERVATION, 3 * (Number.isFinite(declared) ? declared : this.env.MAX_BODY_BYTES))))) return;
      const read = await readBody(req, this.env.MAX_BODY_BYTES);
      if (!read.ok) return 'tooLarge' in read ? tooLarge() : undefined;
      const shape = bodyShape(read.body);
      if (shape.records > MAX_RECORDS_PER_POST) return fail(413, `more than ${MAX_RECORDS_PER_POST} records in one post`);
      const needed = heapEstimate(read.body.length, shape);
      if (needed > held) {
        // Given back first and taken whole: posts that each held some and waited for
        // more would hold the budget between them until their waits ran out.
        this.budget.give(held);
        held = 0;
        if (!(await reserve(needed))) return;
      }
      const parsed = parseRecords(read.body);
      if (!parsed.ok) return fail(400, parsed.error);
      const accepted = await this.ingest.accept(integration, parsed.records, read.body.length).catch((err: unknown) => {
        if (err instanceof OverShare || err instanceof StreamFull) return err;
        throw err;
      });
      // INGEST full, or this integration holding its share of it: nothing was stored.
      if (accepted instanceof OverShare || accepted instanceof StreamFull) {
        res.setHeader('Retry-After', String(STREAM_FULL_RETRY_SECONDS));
        return fail(503, accepted instanceof OverShare ? accepted.message : 'too many records are waiting to be loaded; retry later');
      }
      sendJson(res, 202, { accepted });
    } finally {
      this.budget.give(held);
    }
  }
}

/**
 * Answers an error in the contract's shape. A request whose body has not been read has
 * `Connection: close`, and the rest of its body is read and dropped (up to DISCARD_BYTES
 * or DISCARD_MS) before the connection closes: a sender still writing its body then
 * reads the answer instead of a reset connection (`EPIPE`). The answer is written whole
 * first; ending the response is what closes the connection, so it waits for the discard.
 */
async function refuse(req: IncomingMessage, res: ServerResponse, status: number, what: string, headers: Record<string, string> = {}): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (!bodyPending(req)) return sendJson(res, status, simpleError(what));
  res.setHeader('Connection', 'close');
  const json = writeJsonHead(res, status, simpleError(what));
  res.write(json);
  await discardBody(req, DISCARD_BYTES, DISCARD_MS);
  res.end();
}

/**
 * Whether the request has body bytes still to come. Not `!req.complete` alone: on the fast
 * path a request without a body is answered within the server's 'request' event, before
 * node marks it complete, and its keep-alive connection must stay open.
 */
function bodyPending(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * What Express's `res.status(s).json(body)` sends in this app (no ETag, no X-Powered-By),
 * header for header and in the same order.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.end(writeJsonHead(res, status, body));
}

/** Sets the status and headers of a JSON answer; returns its body. */
function writeJsonHead(res: ServerResponse, status: number, body: unknown): string {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  return json;
}
