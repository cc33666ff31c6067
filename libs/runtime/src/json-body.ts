import { ErrorBody, simpleError } from '@posthooks/contracts';
import express, { NextFunction, Request, Response } from 'express';

export type MalformedJsonBody = (req: Request) => ErrorBody | undefined;

/**
 * JSON body parsing with errors in the contract's shape. Express's parser reports a
 * bad body before any Nest filter runs, so its errors are answered right here.
 */
export function jsonBody(limit: string, malformed?: MalformedJsonBody, skip?: RegExp) {
  const parse = express.json({ limit });
  return [
    // Routes that read their body themselves (streamed, with their own limits) are skipped.
    (req: Request, res: Response, next: NextFunction) => (skip?.test(req.path) ? next() : parse(req, res, next)),
    (err: { type?: string; status?: number }, req: Request, res: Response, next: NextFunction) => {
      if (err.type === 'entity.too.large') return res.status(413).json(simpleError('request body is too large'));
      if (err.type === 'entity.parse.failed' || err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
        return res.status(400).json(malformed?.(req) ?? simpleError('request body is not valid JSON'));
      }
      next(err);
    },
  ];
}
