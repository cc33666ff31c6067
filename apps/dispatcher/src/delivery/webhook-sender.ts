import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates, SecureContext } from 'node:tls';
import type { Readable } from 'node:stream';
import axios, { AxiosError, AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { parseRetryAfter, signWebhook } from '@posthooks/webhooks';
import { assertLiteralTarget, guardedLookup } from './guarded-lookup';
import { httpsAdapter } from './https-adapter';
import { storableText } from './storable-text';

export interface Webhook {
  url: string;
  webhookId: string;
  body: string;
  secrets: string[];
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

  constructor(
    private readonly options: { timeoutMs: number; allowPrivateTargets: boolean; userAgent: string; maxSocketsPerHost: number },
  ) {
    // A secure context built once: a `ca` option would be re-serialized into the agent's
    // pool key on every request (measured: about a third of the dispatcher's CPU).
    const agent = new Agent({ keepAlive: true, maxSockets: options.maxSocketsPerHost, lookup: guardedLookup(options.allowPrivateTargets) as never, secureContext: trustedContext() });
    this.http = axios.create({
      adapter: httpsAdapter,
      httpsAgent: agent,
      maxRedirects: 0,
      timeout: options.timeoutMs,
      responseType: 'stream',
      validateStatus: () => true,
      proxy: false,
    });
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
      const res = await this.http.post<Readable>(webhook.url, webhook.body, {
        transformRequest: [(data: string) => data],
        headers: {
          'content-type': 'application/json',
          'user-agent': this.options.userAgent,
          'webhook-id': webhook.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook({ id: webhook.webhookId, timestamp, body: webhook.body, secrets: webhook.secrets }),
        },
      });
      const responseBody = await readHead(res.data, RESPONSE_BODY_BYTES);
      const status = res.status;
      const ok = status >= 200 && status < 300;
      const error = ok ? null : status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(String(res.headers['retry-after'] ?? '')) : undefined;
      return { ok, statusCode: status, error, durationMs: elapsed(), responseBody: storableText(responseBody), retryAfterMs };
    } catch (err) {
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

/** Reads at most `limit` bytes of the answer and drops the rest. */
async function readHead(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof AxiosError) {
    if (err.code === 'ECONNABORTED' || err.code === 'ERR_CANCELED' || err.code === 'ETIMEDOUT') return `timeout after ${timeoutMs} ms`;
    const cause = (err.cause as NodeJS.ErrnoException | undefined) ?? err;
    return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  }
  return (err as Error).message;
}
