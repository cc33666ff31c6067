import { AddressedRequest, clientAddress } from './client-address';

const request = (remoteAddress: string | undefined, forwardedFor?: string | string[]): AddressedRequest => ({
  socket: { remoteAddress },
  headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
});

describe('clientAddress', () => {
  it.each<[string, AddressedRequest, boolean, string]>([
    ['Test scenario: without TRUST_PROXY the socket peer is the client', request('10.1.1.1'), false, '10.1.1.1'],
    ['Test scenario: without TRUST_PROXY X-Forwarded-For is ignored', request('10.1.1.1', '203.0.113.9'), false, '10.1.1.1'],
    ['Test scenario: an IPv4-mapped IPv6 peer is its IPv4 address', request('::ffff:127.0.0.1'), false, '127.0.0.1'],
    ['Test scenario: with TRUST_PROXY the one hop is the client', request('10.1.1.1', '203.0.113.9'), true, '203.0.113.9'],
    ['Test scenario: with TRUST_PROXY the last hop (added by the proxy) wins over forged earlier ones', request('10.1.1.1', '198.51.100.1, 203.0.113.9'), true, '203.0.113.9'],
    ['Test scenario: repeated headers are one list', request('10.1.1.1', ['198.51.100.1', '203.0.113.9']), true, '203.0.113.9'],
    ['Test scenario: with TRUST_PROXY and no header the peer is the client', request('10.1.1.1'), true, '10.1.1.1'],
    ['Test scenario: with TRUST_PROXY an empty header falls back to the peer', request('10.1.1.1', ' , '), true, '10.1.1.1'],
    ['Test scenario: no peer address (closed socket) still gives a key', request(undefined), false, 'unknown'],
  ])('%s', (_, req, trustProxy, expected) => {
    expect(clientAddress(req, trustProxy)).toBe(expected);
  });
});
