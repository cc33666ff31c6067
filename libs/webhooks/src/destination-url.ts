import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import { addressRange } from './private-address';

/**
 * A destination's `connection.url` (SPEC §2), parsed without any I/O: the registry checks
 * it before saving, and the loader parses it again (from the sealed copy on REGISTRY)
 * to connect. Both resolve the host once and connect to the address they checked, so a
 * name that resolves elsewhere later (DNS rebinding) is checked again, never trusted.
 */
export interface DestinationUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** disable (default): no TLS; require: TLS without verifying the certificate; verify-full: TLS, verified for `host`. */
  sslmode: 'disable' | 'require' | 'verify-full';
}

export const DESTINATION_URL_RULE =
  'connection.url must be postgres://user:password@host[:port]/database of at most 2048 characters, with at most ?sslmode=disable|require|verify-full';

const SSL_MODES: Record<string, DestinationUrl['sslmode']> = { disable: 'disable', prefer: 'disable', require: 'require', 'no-verify': 'require', 'verify-ca': 'verify-full', 'verify-full': 'verify-full' };

/** The parsed URL, or undefined when it is not one a destination may have (DESTINATION_URL_RULE). */
export function parseDestinationUrl(text: string): DestinationUrl | undefined {
  if (typeof text !== 'string' || text.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 5432 : Number(url.port);
  let user: string, password: string, database: string;
  try {
    [user, password, database] = [decodeURIComponent(url.username), decodeURIComponent(url.password), decodeURIComponent(url.pathname.replace(/^\//, ''))];
  } catch {
    return undefined;
  }
  if (host === '' || user === '' || database === '' || database.includes('/') || Buffer.byteLength(database) > 63 || url.hash !== '') return undefined;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const params = [...url.searchParams.keys()];
  if (params.some((p) => p !== 'sslmode') || params.length > 1) return undefined;
  const mode = url.searchParams.get('sslmode');
  const sslmode = mode === null ? 'disable' : SSL_MODES[mode];
  if (!sslmode) return undefined;
  return { host, port, user, password, database, sslmode };
}

/** The URL as a user may see it again: the password, if any, as `***`. Never throws. */
export function maskDestinationUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return text.replace(/:[^:@/]*@/, ':***@');
  }
}

/** Cloud metadata endpoints that sit in ranges a destination may otherwise use (normalized: any spelling matches). */
const METADATA_ADDRESSES = new Set(['100.100.100.200', 'fd00:ec2::254'].map((ip) => ipaddr.parse(ip).toNormalizedString()));

/**
 * Whether a destination may connect to `ip`: public and private networks yes (warehouses
 * live in VPCs), loopback, link-local (169.254.169.254 among them), metadata, multicast,
 * unspecified and reserved ranges only with ALLOW_PRIVATE_TARGETS (local use); garbage never.
 * Returns why not, for the service log only (it names the address), or undefined.
 */
export function destinationAddressProblem(ip: string, allowPrivate: boolean): string | undefined {
  const range = addressRange(ip);
  if (range === 'invalid') return `${ip}: not an address`;
  if (allowPrivate) return undefined;
  if (METADATA_ADDRESSES.has(ipaddr.parse(ip).toNormalizedString())) return `${ip}: cloud metadata address`;
  if (['unicast', 'private', 'uniqueLocal', 'carrierGradeNat'].includes(range)) return undefined;
  return `${ip}: ${range} address`;
}

/** A destination refused for where it is; the message is the user's and names no address. */
export class DestinationNotAllowedError extends Error {
  constructor(readonly detail: string) {
    super('connection.url points at an address a destination may not use (loopback, link-local or metadata)');
    this.name = 'DestinationNotAllowedError';
  }
}

/**
 * Resolves the destination's host once and checks every address it gives (a name that
 * also resolves to loopback is refused, whichever address would be picked); returns the
 * first, which the caller connects to. Throws DestinationNotAllowedError, or the
 * resolver's error (ENOTFOUND: "could not connect" to the user).
 */
export async function resolveDestination(url: DestinationUrl, allowPrivate: boolean, lookup: (host: string) => Promise<string[]> = lookupAll): Promise<string> {
  const addresses = await lookup(url.host);
  for (const address of addresses) {
    const problem = destinationAddressProblem(address, allowPrivate);
    if (problem) throw new DestinationNotAllowedError(problem);
  }
  if (addresses.length === 0) throw Object.assign(new Error('the host has no address'), { code: 'ENOTFOUND' });
  return addresses[0];
}

async function lookupAll(host: string): Promise<string[]> {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * The settings for a pg Client or Pool to reach `url` at the checked `address`: TLS, if
 * any, still verifies the certificate for the host name the user gave.
 */
export function destinationClientConfig(url: DestinationUrl, address: string) {
  // SNI takes a name, never an address.
  const servername = isIP(url.host) === 0 ? url.host : undefined;
  const ssl = url.sslmode === 'disable' ? false : { rejectUnauthorized: url.sslmode === 'verify-full', servername };
  return { host: address, port: url.port, user: url.user, password: url.password, database: url.database, ssl };
}
