import { All, Controller, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IncomingHandler } from './incoming.handler';

/**
 * `POST <webhook_url>` as a Nest route: it describes the URL in `/docs`, and answers the
 * rare request the fast path leaves to Express (see incoming.fast-path.ts), with the same
 * handler. The metrics middleware labels it by its pattern, never by the token.
 */
@Controller('v1/incoming')
export class IncomingController {
  constructor(private readonly incoming: IncomingHandler) {}

  @All(':token')
  receive(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.incoming.handle(token, req, res);
  }
}
