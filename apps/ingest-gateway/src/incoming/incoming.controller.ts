import { All, Controller, Inject, Param, Req, Res } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { simpleError } from '@posthooks/contracts';
import type { Request, Response } from 'express';
import { ByteBudget } from './byte-budget';
import { IngestService, RecordTooLarge } from './ingest.service';
import { isJsonContentType, parseRecords } from './parse-records';
import { readBody } from './read-body';

/**
 * `POST <webhook_url>`: third parties send JSON here (SPEC §7). The body is read by hand,
 * with its limit, rather than by the global JSON parser. The token is never logged:
 * the route's metrics label is its pattern, not the path.
 */
@Controller('v1/incoming')
export class IncomingController {
  private readonly budget: ByteBudget;

  constructor(
    private readonly ingest: IngestService,
    @Inject(IngestGatewayEnv) private readonly env: IngestGatewayEnv,
  ) {
    this.budget = new ByteBudget(env.BODIES_IN_FLIGHT_BYTES);
  }

  @All(':token')
  async receive(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const fail = (status: number, what: string) => {
      // A body we will not read must not keep the connection busy.
      if (!req.complete) res.setHeader('Connection', 'close');
      res.status(status).json(simpleError(what));
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
        if (err instanceof RecordTooLarge) return err;
        throw err;
      });
      if (accepted instanceof RecordTooLarge) return fail(413, accepted.message);
      res.status(202).json({ accepted });
    } finally {
      this.budget.give(cost);
    }
  }
}
