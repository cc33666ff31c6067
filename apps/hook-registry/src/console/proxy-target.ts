/**
 * Where a console call under `/console/api/<service>/<path>` goes, or undefined (404).
 *
 * Same origin, by proxy rather than CORS: the page then needs no other origin, the
 * services need no CORS configuration, and the Ingress, compose and `npm start` behave the
 * same (the registry is the only address the browser knows). Pure, so its allow-list is
 * tested by a table: only the public API routes the console uses, never /metrics, /docs,
 * or the gateway's incoming-webhook URLs (their tokens must not travel through here).
 */
export type ProxiedService = 'dispatcher' | 'ingest-gateway' | 'load-simulator';

const ALLOWED: Record<ProxiedService, RegExp> = {
  // The delivery log, redeliver, recover, the undelivered view (SPEC §5).
  dispatcher: /^\/v1\/(hooks\/\d+\/(deliveries|recover)|deliveries(\/[A-Za-z0-9_-]+\/redeliver)?)$/,
  // Integrations and their URLs (SPEC §7).
  'ingest-gateway': /^\/v1\/integrations(\/\d+\/urls(\/\d+)?)?$/,
  // Simulated and scheduled loads (SPEC §7), and what each integration has loaded.
  'load-simulator': /^\/v1\/(simulations|schedules(\/\d+)?|integration-loads)$/,
};

export interface ProxyTarget {
  service: ProxiedService;
  /** The upstream path and query, as the client sent them (not decoded). */
  pathAndQuery: string;
}

/** `originalUrl` is the request's path and query as received (Express's req.originalUrl). */
export function proxyTarget(originalUrl: string): ProxyTarget | undefined {
  const match = /^\/console\/api\/([a-z-]+)(\/[^?#]*)(\?[^#]*)?$/.exec(originalUrl);
  if (!match) return undefined;
  const [, service, path, query = ''] = match;
  if (!Object.hasOwn(ALLOWED, service)) return undefined;
  // The allow-list has no room for `..`, `%2e`, `%2f` or a backslash: no other path can be reached.
  if (!ALLOWED[service as ProxiedService].test(path)) return undefined;
  return { service: service as ProxiedService, pathAndQuery: path + query };
}
