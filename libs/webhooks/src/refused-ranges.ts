import ipaddr from 'ipaddr.js';

/** One ipBlock of a NetworkPolicy egress rule: `cidr` allowed, `except` carved out of it. */
export interface EgressIpBlock {
  cidr: string;
  except: string[];
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
type SpecialRanges = Record<string, Range | Range[]>;

/**
 * The target guard (private-address.ts) calls an address public only when ipaddr.js
 * names its range `unicast`, and for IPv6 only inside 2000::/3. These are the same rule
 * as NetworkPolicy ipBlocks: IPv4 everywhere except every range ipaddr.js has a name for,
 * IPv6 in 2000::/3 except the named ranges inside it. Derived from ipaddr.js's own table,
 * so the guard and k8s/base/networkpolicies.yaml (checked against this by
 * e2e/deploy.e2e-spec.ts) cannot drift apart, also across an ipaddr.js upgrade.
 * IPv4-mapped IPv6 needs no block: such a connection is IPv4 on the wire.
 */
export function publicTargetIpBlocks(): EgressIpBlock[] {
  const global6 = ipaddr.IPv6.parseCIDR('2000::/3');
  const v4 = cidrsOf(specialRanges(ipaddr.IPv4.prototype));
  const v6 = cidrsOf(specialRanges(ipaddr.IPv6.prototype)).filter((cidr) => within(ipaddr.parseCIDR(cidr), global6));
  return [
    { cidr: '0.0.0.0/0', except: withoutNested(v4) },
    { cidr: '2000::/3', except: withoutNested(v6) },
  ];
}

function specialRanges(prototype: object): SpecialRanges {
  return (prototype as { SpecialRanges: SpecialRanges }).SpecialRanges;
}

function cidrsOf(table: SpecialRanges): string[] {
  const ranges = Object.values(table).flatMap((entry) => (Array.isArray(entry[0]) ? (entry as Range[]) : [entry as Range]));
  return ranges.map(([address, bits]) => `${address.toString()}/${bits}`);
}

/** `inner` lies entirely inside `outer` (same family, no shorter prefix). */
function within(inner: Range, outer: Range): boolean {
  return inner[0].kind() === outer[0].kind() && inner[1] >= outer[1] && inner[0].match(outer);
}

/** Sorted, each CIDR once, none inside another of the list: the shortest list that carves out the same space. */
function withoutNested(cidrs: string[]): string[] {
  const unique = [...new Set(cidrs)];
  const ranges = unique.map((cidr) => ipaddr.parseCIDR(cidr));
  return unique
    .filter((_, i) => !ranges.some((other, j) => j !== i && within(ranges[i], other) && !(other[1] === ranges[i][1] && j > i)))
    .sort(compareCidrs);
}

function compareCidrs(a: string, b: string): number {
  const [addressA, bitsA] = ipaddr.parseCIDR(a);
  const [addressB, bitsB] = ipaddr.parseCIDR(b);
  const bytesA = addressA.toByteArray();
  const bytesB = addressB.toByteArray();
  for (let i = 0; i < Math.min(bytesA.length, bytesB.length); i++) if (bytesA[i] !== bytesB[i]) return bytesA[i] - bytesB[i];
  return bitsA - bitsB;
}
