import ipaddr from 'ipaddr.js';
import { isPublicAddress } from './private-address';
import { EgressIpBlock, publicTargetIpBlocks } from './refused-ranges';

/** What a NetworkPolicy with these ipBlocks lets through. */
function policyOf(blocks: EgressIpBlock[]): (ip: string) => boolean {
  const parsed = blocks.map((block) => ({ cidr: ipaddr.parseCIDR(block.cidr), except: block.except.map((cidr) => ipaddr.parseCIDR(cidr)) }));
  return (ip) => {
    const address = ipaddr.parse(ip);
    const inside = (range: [ipaddr.IPv4 | ipaddr.IPv6, number]) => range[0].kind() === address.kind() && address.match(range);
    return parsed.some((block) => inside(block.cidr) && !block.except.some(inside));
  };
}

/** An address `offset` away from `base` (an ipaddr address), wrapping inside its family. */
function shifted(base: ipaddr.IPv4 | ipaddr.IPv6, offset: number): string {
  const bytes = base.toByteArray();
  let value = bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n) + BigInt(offset);
  const size = 1n << BigInt(bytes.length * 8);
  value = ((value % size) + size) % size;
  const out = bytes.map(() => 0);
  for (let i = out.length - 1; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
  return ipaddr.fromByteArray(out).toString();
}

function lastOf(cidr: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const bytes = address.toByteArray().map((byte, i) => {
    const hostBits = Math.max(0, Math.min(8, (i + 1) * 8 - bits));
    return byte | ((1 << hostBits) - 1);
  });
  return ipaddr.fromByteArray(bytes);
}

function randomAddress(bytes: number, prefix: number[] = []): string {
  const out = [...prefix, ...Array.from({ length: bytes - prefix.length }, () => Math.floor(Math.random() * 256))];
  return ipaddr.fromByteArray(out).toString();
}

const blocks = publicTargetIpBlocks();
const allowedByBlocks = policyOf(blocks);
const IPV4_MAPPED = ipaddr.parseCIDR('::ffff:0:0/96');
/** Mapped IPv6 is judged by the IPv4 inside (the wire carries IPv4): no ipBlock applies to it. */
const comparable = (ip: string) => !(ipaddr.parse(ip).kind() === 'ipv6' && ipaddr.parse(ip).match(IPV4_MAPPED));

describe('publicTargetIpBlocks', () => {
  it('Test scenario: IPv4 everywhere but the special ranges, IPv6 in 2000::/3 but the special ranges inside it', () => {
    expect(blocks.map((b) => b.cidr)).toEqual(['0.0.0.0/0', '2000::/3']);
    expect(blocks[0].except).toEqual(expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '224.0.0.0/4', '240.0.0.0/4', '0.0.0.0/8']));
    expect(blocks[1].except).toEqual(expect.arrayContaining(['2001::/23', '2001:db8::/32', '2002::/16']));
    for (const block of blocks) for (const cidr of block.except) expect({ cidr, inside: ipaddr.parseCIDR(cidr)[0].match(ipaddr.parseCIDR(block.cidr)) }).toEqual({ cidr, inside: true });
  });

  it('Test scenario: the first, last and neighbouring addresses of every carved-out range get the same answer from the guard and the blocks', () => {
    const probes = blocks.flatMap((block) =>
      [block.cidr, ...block.except].flatMap((cidr) => {
        const first = ipaddr.parseCIDR(cidr)[0];
        const last = lastOf(cidr);
        return [shifted(first, -1), first.toString(), shifted(first, 1), shifted(last, -1), last.toString(), shifted(last, 1)];
      }),
    );
    const disagreements = probes.filter(comparable).filter((ip) => isPublicAddress(ip) !== allowedByBlocks(ip));
    expect(disagreements).toEqual([]);
  });

  it('Test scenario: 20,000 random IPv4 and 20,000 random IPv6 addresses (half in 2000::/3) get the same answer from both', () => {
    const probes = [
      ...Array.from({ length: 20_000 }, () => randomAddress(4)),
      ...Array.from({ length: 10_000 }, () => randomAddress(16)),
      ...Array.from({ length: 10_000 }, () => randomAddress(16, [0x20 + Math.floor(Math.random() * 0x20)])),
      ...Array.from({ length: 5_000 }, () => randomAddress(16, [0x20, 0x01])),
    ];
    const disagreements = probes.filter(comparable).filter((ip) => isPublicAddress(ip) !== allowedByBlocks(ip));
    expect(disagreements.slice(0, 10)).toEqual([]);
  });
});
