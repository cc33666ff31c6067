import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The ipaddr.js range name of an address, or 'invalid'. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, how a dual-stack socket reports an IPv4 peer) is judged by the
 * IPv4 address it carries.
 */
export function addressRange(ip: string): string {
  // node:net is strict about the textual form: no `010.0.0.1` (octal to ipaddr.js),
  // no `1.2.3`, no brackets or spaces. Zone ids only make sense for link-local
  // addresses, which are refused anyway, so they count as invalid too.
  if (isIP(ip) === 0 || ip.includes('%')) return 'invalid';
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return parsed.range();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range();
  const range = v6.range();
  if (range !== 'unicast') return range;
  // ipaddr.js calls everything it has no name for unicast, including the deprecated
  // IPv4-compatible ::/96 (`::7f00:1`) and space IANA has never allocated. Only
  // 2000::/3 is global unicast.
  if (!v6.match(ipaddr.IPv6.parse('2000::'), 3)) return 'reserved';
  return 'unicast';
}

/** True only for a public unicast address; false for every special range and for garbage. */
export function isPublicAddress(ip: string): boolean {
  return addressRange(ip) === 'unicast';
}

/** What the tenant sees (delivery log, undeliverable email) when a target is refused (SPEC §5). */
export const TARGET_NOT_ALLOWED = 'target address not allowed';

/**
 * A refused target. Its message is the tenant's, with no address: what a hook's name
 * resolves to is the operator's network, not the tenant's business (an address would
 * let a tenant map the inside). `detail` names the address and its range, for the
 * service log only.
 */
export class TargetNotAllowedError extends Error {
  constructor(readonly detail: string) {
    super(TARGET_NOT_ALLOWED);
    this.name = 'TargetNotAllowedError';
  }
}

/**
 * Throws a TargetNotAllowedError unless `ip` is public (or private targets are allowed).
 * The dispatcher calls it with the address the socket actually connects to, so a DNS
 * name that resolves to a private address, now or after a rebinding, is caught too.
 */
export function assertPublicAddress(ip: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const range = addressRange(ip);
  if (range !== 'unicast') throw new TargetNotAllowedError(`${ip}: ${range} address`);
}

/** The TargetNotAllowedError behind `err`, however deep an HTTP client wrapped it. */
export function findTargetRefusal(err: unknown): TargetNotAllowedError | undefined {
  for (let cause = err, depth = 0; cause !== undefined && cause !== null && depth < 8; depth++) {
    if (cause instanceof TargetNotAllowedError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
