import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, SecureContext } from 'node:tls';
import axios, { AxiosError, AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { Agent } from 'undici';
import { Logger } from '@nestjs/common';
import { findTargetRefusal, parseRetryAfter, signWebhook, TARGET_NOT_ALLOWED } from '@posthooks/webhooks';
import { assertLiteralTarget, guardedLookup } from './guarded-lookup';
import { undiciAdapter } from './undici-adapter';
import { storableText } from './storable-text';

export interface Webhook {
  url: string;
  webhookId: string;
  body: string;
  secrets: string[];
  /** The hook's custom headers (SPEC §9), opened: sent on every attempt, never logged. */
  headers?: readonly (readonly [string, string])[];
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  /** The raw failure: `HTTP 500`, `redirect (302) not followed`, a network or TLS error. */
  error: string | null;
  durationMs: number;
  /** The first 4 KiB of the answer, as text Postgres can store (storableText). */
  responseBody: string | null;
  retryAfterMs?: number;
}

const RESPONSE_BODY_BYTES = 4096;

/**
 * Headers a hook's own may never replace: the ones the sender sets (signature, type,
 * agent) and the ones the transport owns. The registry refuses these names (SPEC §9);
 * the sender drops them anyway, so a hook can never forge or break a signature.
 */
const RESERVED_HEADER = /^(webhook-.*|content-type|content-length|host|user-agent|connection|transfer-encoding)$/i;
/** An HTTP token (RFC 9110): a name undici would refuse is dropped rather than fail every attempt. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The custom headers to put on the request: reserved and invalid names dropped, names lower-cased (the last of two spellings wins). */
export function customHeadersToSend(headers: readonly (readonly [string, string])[] = []): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const [name, value] of headers) if (HEADER_NAME.test(name) && !RESERVED_HEADER.test(name)) sent[name.toLowerCase()] = value;
  return sent;
}

/** A failed attempt that was never sent (a custom header that cannot be opened): logged, retried, reported like any. */
export function notSent(error: string): AttemptResult {
  return { ok: false, statusCode: null, error, durationMs: 0, responseBody: null };
}
/** Errors where the request never reached the receiver's application: retried at once, within the attempt. */
const QUICK_TRANSIENT = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN']);

/**
 * Sends one attempt of a webhook: Standard Webhooks headers, one keep-alive agent for
 * every endpoint, a hard time limit (the adapter's deadline), no redirects. Only a 2xx succeeds. Quick transient
 * network errors (a reset keep-alive socket) are retried twice inside the attempt by
 * axios-retry; the long schedule lives in JetStream.
 */
export class WebhookSender {
  private readonly http: AxiosInstance;
  private readonly logger = new Logger('WebhookSender');

  constructor(
    private readonly options: { timeoutMs: number; allowPrivateTargets: boolean; userAgent: string; maxSocketsPerHost: number },
  ) {
    // One keep-alive pool per origin, at most maxSocketsPerHost connections each. Every
    // connection resolves its host through the guarded lookup (the check covers what is
    // connected to) and trusts one secure context, built once. The deadline is the
    // adapter's; undici's own timeouts only back it up. undici follows no redirects.
    const agent = new Agent({
      connections: options.maxSocketsPerHost,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.allowPrivateTargets), secureContext: trustedContext() },
    });
    this.http = axios.create({
      adapter: undiciAdapter(agent, { keepBytes: RESPONSE_BODY_BYTES }),
      maxRedirects: 0,
      timeout: options.timeoutMs,
      validateStatus: () => true,
      // The body is sent as the exact string signed, and the answer kept as text: no transform either way.
      transformRequest: [],
      transformResponse: [],
      proxy: false,
    });
    // Only the headers every webhook carries, Accept as axios would send it. axios's own
    // defaults hold a bucket of headers per method (get, post...) that it merges into
    // every request, a visible share of the sender's CPU (bench/sender.mjs with BENCH_CPU_PROF).
    this.http.defaults.headers = { accept: 'application/json, text/plain, */*', 'content-type': 'application/json', 'user-agent': options.userAgent } as unknown as AxiosInstance['defaults']['headers'];
    axiosRetry(this.http, {
      retries: 2,
      retryDelay: () => 100,
      shouldResetTimeout: false,
      retryCondition: (err: AxiosError) => err.response === undefined && QUICK_TRANSIENT.has(err.code ?? ''),
    });
  }

  async send(webhook: Webhook): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const url = new URL(webhook.url);
      if (url.protocol !== 'https:') throw new Error(`refusing to send to ${url.protocol} URL`);
      assertLiteralTarget(url.hostname, this.options.allowPrivateTargets);
      const res = await this.http.post<string>(webhook.url, webhook.body, {
        // The hook's headers first: ours (and the defaults') are set after them, and the reserved names are dropped.
        headers: {
          ...customHeadersToSend(webhook.headers),
          'webhook-id': webhook.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook({ id: webhook.webhookId, timestamp, body: webhook.body, secrets: webhook.secrets }),
        },
      });
      const status = res.status;
      const ok = status >= 200 && status < 300;
      const error = ok ? null : status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(String(res.headers['retry-after'] ?? '')) : undefined;
      return { ok, statusCode: status, error, durationMs: elapsed(), responseBody: storableText(res.data), retryAfterMs };
    } catch (err) {
      const refusal = findTargetRefusal(err);
      if (refusal) {
        // The tenant gets the bare refusal (SPEC §5); the address behind it goes to the operator's log only.
        this.logger.warn(`${TARGET_NOT_ALLOWED}: ${hostOf(webhook.url)} -> ${refusal.detail}`);
        return { ok: false, statusCode: null, error: TARGET_NOT_ALLOWED, durationMs: elapsed(), responseBody: null };
      }
      // An error may quote the receiver (a certificate's names, say): stored as text too.
      return { ok: false, statusCode: null, error: storableText(describe(err, this.options.timeoutMs)), durationMs: elapsed(), responseBody: null };
    }
  }
}

/**
 * The public roots plus NODE_EXTRA_CA_CERTS (a private CA, e.g. the demo receiver's).
 * Node applies that variable only if it is set when the process starts; reading it here
 * too gives it the same meaning when the dispatcher is embedded (in-process tests).
 */
function trustedContext(): SecureContext | undefined {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return extra ? createSecureContext({ ca: [...rootCertificates, readFileSync(extra, 'utf8')] }) : undefined;
}

/** The host of a hook URL, for the log: never its path or query, which may carry a token. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof AxiosError) {
    if (err.code === 'ECONNABORTED' || err.code === 'ERR_CANCELED' || err.code === 'ETIMEDOUT') return `timeout after ${timeoutMs} ms`;
    // The code axios carries is the transport's, as the adapter names it (ECONNRESET for undici's UND_ERR_SOCKET).
    const message = ((err.cause as Error | undefined) ?? err).message;
    return err.code && !message.includes(err.code) ? `${err.code}: ${message}` : message;
  }
  return (err as Error).message;
}
