/** The parts of a request that name who connected (an Express request has them). */
export interface AddressedRequest {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string };
}

/**
 * The address a request came from, for the failed-authentication limit.
 *
 * Without `trustProxy` it is the socket's peer, whatever the headers say: a client that
 * reaches the service directly could otherwise write any X-Forwarded-For and get a fresh
 * allowance per request. With `trustProxy` (behind the Ingress) it is the LAST
 * X-Forwarded-For hop: the proxy appends the address that connected to it, while every
 * earlier hop was written by the client and proves nothing. This assumes exactly one
 * trusted proxy in front of the service, as the k8s Ingress is. Several X-Forwarded-For
 * headers count as one comma-separated list (Node joins them in that order).
 */
export function clientAddress(req: AddressedRequest, trustProxy: boolean): string {
  const peer = normalize(req.socket.remoteAddress ?? 'unknown');
  if (!trustProxy) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  return hops.length > 0 ? normalize(hops[hops.length - 1]) : peer;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same client. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
