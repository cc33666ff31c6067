import { addressRange, assertPublicAddress, findTargetRefusal, isPublicAddress, TargetNotAllowedError } from './private-address';

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['93.184.216.34'],
    ['2606:4700:4700::1111'],
    ['2001:4860:4860::8888'],
    ['::ffff:8.8.8.8'],
  ])('accepts public unicast %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', '6to4'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['64:ff9b::808:808', 'rfc6052'],
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['::7f00:1', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv4-mapped IPv6 is judged by the IPv4 address inside, in both spellings.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'linkLocal'],
  ])('refuses %s (%s)', (ip, range) => {
    expect(isPublicAddress(ip)).toBe(false);
    expect(addressRange(ip)).toBe(range);
  });

  it.each([[''], ['localhost'], ['example.com'], ['8.8.8'], ['010.8.8.8'], ['0x8.8.8.8'], ['134744072'], [' 8.8.8.8'], ['[2606:4700:4700::1111]'], ['fe80::1%eth0'], ['256.1.1.1']])(
    'refuses the invalid string %j',
    (ip) => {
      expect(isPublicAddress(ip)).toBe(false);
    },
  );
});

describe('assertPublicAddress', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3: private address'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1: loopback address'],
  ])('tells the tenant only "target address not allowed" for %s, the address going to the detail (log)', (ip, detail) => {
    let thrown: unknown;
    try {
      assertPublicAddress(ip, false);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TargetNotAllowedError);
    expect((thrown as TargetNotAllowedError).message).toBe('target address not allowed');
    expect((thrown as TargetNotAllowedError).detail).toBe(detail);
    expect(String(thrown)).not.toContain(ip);
  });

  it('finds the refusal behind the causes an HTTP client wraps it in', () => {
    const refusal = new TargetNotAllowedError('10.0.0.1: private address');
    expect(findTargetRefusal(new Error('connect failed', { cause: new Error('socket', { cause: refusal }) }))).toBe(refusal);
    expect(findTargetRefusal(new Error('ECONNREFUSED'))).toBeUndefined();
    expect(findTargetRefusal(undefined)).toBeUndefined();
  });

  it('lets public addresses through', () => {
    expect(() => assertPublicAddress('8.8.8.8', false)).not.toThrow();
  });

  it('lets anything through when private targets are allowed', () => {
    expect(() => assertPublicAddress('127.0.0.1', true)).not.toThrow();
  });
});
