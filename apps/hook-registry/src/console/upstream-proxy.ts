import { Logger } from '@nestjs/common';
import { simpleError } from '@posthooks/contracts';
import type { Request, Response } from 'express';
import http from 'node:http';
import https from 'node:https';
import { clientAddress } from '@posthooks/runtime';

/** Request headers passed on: the credentials and what describes the body. Nothing else (no cookies, no hop-by-hop headers). */
const REQUEST_HEADERS = ['authorization', 'content-type', 'content-length', 'content-encoding', 'accept'];
/** Response headers passed back. */
const RESPONSE_HEADERS = ['content-type', 'content-length', 'retry-after', 'allow', 'cache-control'];

const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

export interface ProxyOptions {
  /** The upstream service's base URL (DISPATCHER_URL, ...). */
  base: string;
  pathAndQuery: string;
  /** Upstream must answer (its headers) within this; else 504. */
  timeoutMs: number;
  trustProxy: boolean;
  /** For logs: the service's name. */
  service: string;
}

const log = new Logger('ConsoleProxy');

/**
 * Streams one request to an upstream service and its answer back: the body is piped both
 * ways, never buffered, so a large answer (a long delivery log page) costs no memory here.
 * The Authorization header is passed on unchanged and never logged (only the service and
 * the path are). X-Forwarded-For names the client, so an upstream behind TRUST_PROXY
 * still limits failed authentications per browser, not per registry.
 */
export function proxyRequest(req: Request, res: Response, options: ProxyOptions): void {
  const target = new URL(options.pathAndQuery, options.base);
  const headers: http.OutgoingHttpHeaders = {};
  for (const name of REQUEST_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  // One hop: the client as this registry sees it (behind the Ingress, with TRUST_PROXY, the
  // browser's address, not the Ingress pod's). An upstream with TRUST_PROXY takes the last hop.
  headers['x-forwarded-for'] = clientAddress(req, options.trustProxy);

  const transport = target.protocol === 'https:' ? https : http;
  const upstream = transport.request(target, { method: req.method, headers, agent: agents[target.protocol as 'http:' | 'https:'], timeout: options.timeoutMs });
  // waiting: no answer yet; proxying: the upstream's answer is being piped; ours: we answered (an error); gone: the client left.
  let state: 'waiting' | 'proxying' | 'ours' | 'gone' = 'waiting';
  const fail = (status: number, what: string) => {
    if (state === 'proxying') res.destroy(); // cut mid-answer: the client must see it truncated
    if (state !== 'waiting') return;
    state = 'ours';
    res.status(status).json(simpleError(what));
  };

  upstream.on('response', (answer) => {
    // Headers are in: the timeout was about waiting for them; a slow body is the client's to wait for.
    upstream.setTimeout(0);
    if (state !== 'waiting') return answer.resume();
    state = 'proxying';
    res.status(answer.statusCode ?? 502);
    for (const name of RESPONSE_HEADERS) if (answer.headers[name] !== undefined) res.setHeader(name, answer.headers[name]);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('timeout', () => {
    log.warn(`${options.service} did not answer ${req.method} ${target.pathname} within ${options.timeoutMs} ms`);
    fail(504, `${options.service} did not answer in time`);
    upstream.destroy();
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (state === 'ours' || state === 'gone') return;
    log.warn(`${options.service} ${req.method} ${target.pathname}: ${err.code ?? err.message}`);
    fail(502, `${options.service} is not reachable`);
  });
  // The browser went away (closed tab, navigation): so does the upstream request.
  res.on('close', () => {
    if (res.writableFinished) return;
    state = 'gone';
    upstream.destroy();
  });
  req.pipe(upstream);
}
