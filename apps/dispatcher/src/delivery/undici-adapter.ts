import type { Dispatcher } from 'undici';
import { AxiosAdapter, AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/**
 * The sender's axios adapter: one request over an undici dispatcher (its keep-alive pools,
 * one per origin), the answer's first `keepBytes` bytes as text in `data`. axios keeps
 * the config, interceptors and axios-retry; undici carries the bytes, at a fraction of the
 * CPU node:https's ClientRequest, agent and IncomingMessage streams cost per request
 * (bench/sender.mjs). The answer is read here, through undici's handler callbacks
 * rather than a stream, because only its head is kept: more than `keepBytes` aborts the
 * request, which closes that connection instead of reading a large answer to the end.
 *
 * `timeout` is a hard deadline for the whole attempt — waiting for a connection, the
 * answer's headers and its body — not an idle timeout: a receiver trickling bytes cannot
 * hold a delivery past it. Every status resolves unless `validateStatus` says otherwise.
 */
export function undiciAdapter(dispatcher: Dispatcher, { keepBytes }: { keepBytes: number }): AxiosAdapter {
  return (config: InternalAxiosRequestConfig) =>
    new Promise<AxiosResponse<string>>((resolve, reject) => {
      const url = new URL(config.url as string);
      const chunks: Buffer[] = [];
      let kept = 0;
      let status = 0;
      let headers: AxiosResponse['headers'] = {};
      let controller: Dispatcher.DispatchController | undefined;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const succeed = () =>
        settle(() => {
          const response: AxiosResponse<string> = { data: Buffer.concat(chunks).subarray(0, keepBytes).toString('utf8'), status, statusText: '', headers, config, request: undefined };
          if (!config.validateStatus || config.validateStatus(status)) resolve(response);
          else reject(new AxiosError(`Request failed with status code ${status}`, AxiosError.ERR_BAD_RESPONSE, config, undefined, response));
        });
      const fail = (err: Error & { code?: string }) => settle(() => reject(err instanceof AxiosError ? err : AxiosError.from(err, transportCode(err), config)));
      // Until undici gives the request a connection there is no controller: the promise
      // ends at the deadline anyway, and onRequestStart aborts the request if it comes later.
      const deadline = config.timeout
        ? setTimeout(() => {
            const timedOut = new AxiosError(`timeout of ${config.timeout} ms exceeded`, AxiosError.ECONNABORTED, config);
            fail(timedOut);
            controller?.abort(timedOut);
          }, config.timeout)
        : undefined;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started;
          if (settled) started.abort(new Error('attempt already ended'));
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          // A 1xx answer is followed by the real one: only the last counts.
          status = statusCode;
          headers = responseHeaders as AxiosResponse['headers'];
        },
        onResponseData(current, chunk) {
          if (settled) return;
          chunks.push(chunk);
          kept += chunk.length;
          // More than kept: an answer of exactly keepBytes ends normally and keeps its connection.
          if (kept > keepBytes) {
            succeed();
            current.abort(new Error('answer longer than kept: the rest is dropped'));
          }
        },
        onResponseEnd: () => succeed(),
        onResponseError: (_controller, err) => fail(err),
      };
      const body = typeof config.data === 'string' || Buffer.isBuffer(config.data) ? config.data : config.data === undefined ? undefined : JSON.stringify(config.data);
      try {
        dispatcher.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: (config.method ?? 'get').toUpperCase() as Dispatcher.HttpMethod, headers: config.headers.toJSON() as Record<string, string>, body }, handler);
      } catch (err) {
        fail(err as Error);
      }
    });
}

/**
 * undici reports a connection the other side closed before answering as UND_ERR_SOCKET
 * ("other side closed"), where node:http says ECONNRESET ("socket hang up"): the same
 * quick transient failure a stale keep-alive connection gives, named as node names it.
 */
function transportCode(err: Error & { code?: string }): string | undefined {
  return err.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : err.code;
}
