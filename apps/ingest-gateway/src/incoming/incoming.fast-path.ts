import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { Histogram, register } from 'prom-client';
import { IncomingHandler } from './incoming.handler';

/** The route's pattern: its metrics label, as the metrics middleware labels Express routes. */
export const INCOMING_ROUTE = '/v1/incoming/:token';

/** libs/observability's histogram of every HTTP request (HttpMetricsMiddleware). */
const HTTP_SECONDS = 'posthooks_http_request_duration_seconds';

/**
 * Incoming webhooks are the gateway's hot path: third parties post small JSON bodies at
 * thousands per second. Express's router and middleware took about a third of the
 * gateway's CPU per post (bench/ingest), so this route is answered straight from the HTTP
 * server's 'request' event, before Express, by the same IncomingHandler the Nest route
 * uses. Every other request, and any URL of this route in a form `incomingToken` leaves
 * alone, goes to Express as before.
 *
 * Nothing Express does for this route is lost: the JSON body parser skips it
 * (`rawBodyPaths`), ETag and X-Powered-By are off app-wide, errors are answered by the
 * handler in the contract's shape, and the request is timed into the same histogram
 * with the same labels as the metrics middleware would.
 */
@Injectable()
export class IncomingFastPath implements OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly incoming: IncomingHandler,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = register.getSingleMetric(HTTP_SECONDS) as Histogram<'method' | 'route' | 'status'> | undefined;
    if (!seconds) throw new Error(`the fast path of ${INCOMING_ROUTE} needs the ${HTTP_SECONDS} histogram (ObservabilityModule)`);
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    const express = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const token = incomingToken(req.url);
      if (token === undefined) {
        for (const listener of express) listener.call(server, req, res);
        return;
      }
      const end = seconds.startTimer({ method: req.method });
      res.once('finish', () => end({ route: INCOMING_ROUTE, status: String(res.statusCode) }));
      void this.incoming.handle(token, req, res);
    });
  }
}

/**
 * `/v1/incoming/<token>`, with an optional trailing slash and query string, any case:
 * what Express's route `/v1/incoming/:token` matches. Fragments, whitespace and the like
 * send Express's URL parser (parseurl) down its slow path: such URLs are left to Express.
 */
const FAST_URL = /^\/v1\/incoming\/([^/?#\s]+)\/?(?:\?[^#\s]*)?$/i;

/**
 * The token of a request URL the fast path answers, percent-decoded as Express decodes
 * route parameters; undefined for every URL it leaves to Express: other routes, and this
 * route in rare forms (absolute-form `http://host/v1/...`, a malformed escape, see
 * FAST_URL), so those get exactly Express's answer.
 */
export function incomingToken(url: string | undefined): string | undefined {
  const m = FAST_URL.exec(url ?? '');
  if (!m) return undefined;
  if (!m[1].includes('%')) return m[1];
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}
