import { ErrorBody, simpleError } from '@posthooks/contracts';
import express, { NextFunction, Request, Response } from 'express';
import { isUtf8 } from 'node:buffer';

/** The error body for a refused JSON body on this request's route (`what` says why), or undefined for `{"error":what}`. */
export type MalformedJsonBody = (req: Request, what: string) => ErrorBody | undefined;

/**
 * No API body nests deeper than a few levels. A deeper one is refused before Nest's
 * ValidationPipe, whose recursive walk (stripProtoKeys, class-transformer) overflows the
 * stack at some thousand levels and answered 500 (hostile-input e2e).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Why a parsed API body must be refused, or undefined. Iterative, so any depth is safe.
 * - deeper than MAX_JSON_DEPTH (see above);
 * - a string with U+0000: Postgres text cannot hold it, the insert failed with a 500;
 * - a string with a lone surrogate: not Unicode, it would be stored as U+FFFD, silently
 *   not what was sent;
 * - a `__proto__`, `constructor` or `prototype` key: Nest strips them before validation,
 *   so they were accepted as if absent instead of refused like any other extra field
 *   (`anyKey` allows them: third-party records, where they are plain field names).
 */
export function refuseJsonBody(body: unknown, opts: { checkStrings: boolean; anyKey?: boolean } = { checkStrings: true }): string | undefined {
  // Containers only wait on the stack, as two flat arrays: a body of a million small
  // values (4 MiB of `[[],[],…]`) must not cost an object and an entries pair per value
  // (it took the gateway past its 192 MB heap).
  const containers: object[] = [];
  const depths: number[] = [];
  const visit = (value: unknown, depth: number): string | undefined => {
    if (typeof value === 'string') return opts.checkStrings ? badString(value) : undefined;
    if (typeof value === 'object' && value !== null) {
      containers.push(value);
      depths.push(depth);
    }
    return undefined;
  };
  const first = visit(body, 0);
  if (first) return first;
  while (containers.length > 0) {
    const value = containers.pop()!;
    const depth = depths.pop()!;
    if (depth >= MAX_JSON_DEPTH) return `request body is nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = visit(value[i], depth + 1);
        if (bad) return bad;
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!opts.anyKey && FORBIDDEN_KEYS.has(key)) return `request body has a forbidden key ${JSON.stringify(key)}`;
      const bad = (opts.checkStrings ? badString(key) : undefined) ?? visit((value as Record<string, unknown>)[key], depth + 1);
      if (bad) return bad;
    }
  }
  return undefined;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'request body has a NUL character (\\u0000) in a string';
  if (/\p{Surrogate}/u.test(s)) return 'request body has a lone surrogate (not Unicode) in a string';
  return undefined;
}

/** body-parser's verify hook: a UTF-8 body (the default) must be valid UTF-8, not silently read with U+FFFD. */
function verifyUtf8(_req: Request, _res: Response, buf: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(buf)) throw Object.assign(new Error('request body is not valid UTF-8'), { type: 'entity.not.utf8' });
}

/**
 * JSON body parsing with errors in the contract's shape. Express's parser reports a
 * bad body before any Nest filter runs, so its errors are answered right here.
 */
export function jsonBody(limit: string, malformed?: MalformedJsonBody, skip?: RegExp) {
  const parse = express.json({ limit, verify: verifyUtf8 });
  const badBody = (req: Request, res: Response, what: string) => res.status(400).json(malformed?.(req, what) ?? simpleError(what));
  return [
    // Routes that read their body themselves (streamed, with their own limits) are skipped.
    (req: Request, res: Response, next: NextFunction) => (skip?.test(req.path) ? next() : parse(req, res, next)),
    (err: { type?: string; status?: number; message?: string }, req: Request, res: Response, next: NextFunction) => {
      if (err.type === 'entity.too.large') return res.status(413).json(simpleError('request body is too large'));
      if (err.type === 'entity.not.utf8') return badBody(req, res, 'request body is not valid UTF-8');
      if (err.type === 'entity.parse.failed' || err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
        return badBody(req, res, 'request body is not valid JSON');
      }
      // A body that fails to decompress (Content-Encoding gzip or br on other bytes) comes
      // as a plain 400 from body-parser; it used to reach the filter as a 500.
      if (err.status !== undefined && err.status >= 400 && err.status < 500) return badBody(req, res, 'request body could not be read (Content-Encoding?)');
      next(err);
    },
    (req: Request, res: Response, next: NextFunction) => {
      // A route with its own malformed-body answer (the Stitch hooks API) checks its few
      // strings itself, with errors of its own (a NUL in the URL is `Invalid URI`).
      const refused = req.body === undefined ? undefined : refuseJsonBody(req.body, { checkStrings: malformed?.(req, '') === undefined });
      return refused ? badBody(req, res, refused) : next();
    },
  ];
}
