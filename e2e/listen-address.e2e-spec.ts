import { readFileSync } from 'node:fs';
import { testEnv } from '@posthooks/testing';
import { ServiceProcess } from './support/service-process';

/**
 * Issue 15: `npm start` (development) exposes nothing to the network: every service
 * listens on 127.0.0.1 only. A container or pod (production, or any other NODE_ENV) is
 * reached on its own address, so there it listens on every interface; HOST overrides
 * both. The kernel's table of listening sockets tells what a process really bound.
 */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [address, hexPort] = local.split(':');
      if (parseInt(hexPort, 16) === port) found.push(describeAddress(address));
    }
  }
  return found.sort();
}

/** /proc/net hex addresses: IPv4 as one little-endian word, IPv6 as four. */
function describeAddress(hex: string): string {
  if (hex.length === 8) return (hex.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.');
  if (/^0{32}$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  return hex;
}

describe('the address a service listens on', () => {
  const env = testEnv('listen');

  it.each([
    ['development (npm start): 127.0.0.1 only', { NODE_ENV: 'development' }, ['127.0.0.1'], 'listening on 127.0.0.1'],
    ['test, as in a container: every interface', { NODE_ENV: 'test' }, [expect.stringMatching(/^(::|0\.0\.0\.0)$/)], 'listening on all interfaces'],
    ['development with HOST=0.0.0.0: every IPv4 interface', { NODE_ENV: 'development', HOST: '0.0.0.0' }, ['0.0.0.0'], 'listening on 0.0.0.0'],
  ])('Test scenario: %s', async (_, settings, addresses, logged) => {
    const s = await ServiceProcess.spawn('ingest-gateway', { ...env, ...settings });
    try {
      await s.ready();
      expect(listeningAddresses(s.port)).toEqual(addresses);
      expect(s.output).toContain(logged);
    } finally {
      await s.stop();
    }
  });
});
