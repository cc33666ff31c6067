import { Inject, Injectable, Logger } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamFull, STREAM_FULL_RETRY_SECONDS } from '@posthooks/messaging';
import { ByteBudget } from './byte-budget';
import { OverShare } from './ingest-share';
import { IngestService, RecordTooLarge } from './ingest.service';
import { isJsonContentType, parseRecords } from './parse-records';
import { readBody } from './read-body';

/**
 * `POST <webhook_url>`: third parties send JSON here (SPEC §7). Written on node:http's own
 * request and response, so the same code answers whether the request came through the
 * fast path (incoming.fast-path.ts, the usual way) or through Express (IncomingController).
 * The body is read by hand, with its limit, rather than by the global JSON parser. The
 * token is never logged.
 */
@Injectable()
export class IncomingHandler {
  private readonly budget: ByteBudget;
  private readonly log = new Logger('HTTP');

  constructor(
    private readonly ingest: IngestService,
    @Inject(IngestGatewayEnv) private readonly env: IngestGatewayEnv,
  ) {
    this.budget = new ByteBudget(env.BODIES_IN_FLIGHT_BYTES);
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
      else sendJson(res, 500, simpleError('Internal server error'));
    }
  }

  private async receive(token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, what: string) => {
      // A body we will not read must not keep the connection busy.
      if (bodyPending(req)) res.setHeader('Connection', 'close');
      sendJson(res, status, simpleError(what));
    };
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return fail(405, `method ${req.method} is not allowed: POST JSON to this URL`);
    }
    const integration = await this.ingest.integrationOf(token);
    if (!integration) return fail(404, 'unknown or revoked webhook URL');
    if (!isJsonContentType(req.headers['content-type'])) return fail(415, 'Content-Type must be application/json');

    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.env.MAX_BODY_BYTES) return fail(413, `body is larger than ${this.env.MAX_BODY_BYTES} bytes`);
    // Parsed JSON takes a few times its bytes: count that against the budget.
    const cost = 3 * (Number.isFinite(declared) ? declared : this.env.MAX_BODY_BYTES);
    await this.budget.take(cost);
    try {
      const read = await readBody(req, this.env.MAX_BODY_BYTES);
      if (!read.ok) return fail(413, `body is larger than ${this.env.MAX_BODY_BYTES} bytes`);
      const parsed = parseRecords(read.body);
      if (!parsed.ok) return fail(400, parsed.error);
      const accepted = await this.ingest.accept(integration, parsed.records, read.body.length).catch((err: unknown) => {
        if (err instanceof RecordTooLarge || err instanceof OverShare || err instanceof StreamFull) return err;
        throw err;
      });
      if (accepted instanceof RecordTooLarge) return fail(413, accepted.message);
      // INGEST full, or this integration holding its share of it: nothing was stored.
      if (accepted instanceof OverShare || accepted instanceof StreamFull) {
        res.setHeader('Retry-After', String(STREAM_FULL_RETRY_SECONDS));
        return fail(503, accepted instanceof OverShare ? accepted.message : 'too many records are waiting to be loaded; retry later');
      }
      sendJson(res, 202, { accepted });
    } finally {
      this.budget.give(cost);
    }
  }
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
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
