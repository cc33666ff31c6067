import { validateSync } from 'class-validator';
import { checkHookUrl, IsHookUrl, isHookUrl, MAX_HOOK_URL_LENGTH } from './hook-url';

const strict = { allowPrivateTargets: false };
const lenient = { allowPrivateTargets: true };

function longUrl(length: number): string {
  const prefix = 'https://example.com/';
  return prefix + 'a'.repeat(length - prefix.length);
}

describe('checkHookUrl refuses', () => {
  it.each<[string, unknown]>([
    ['a non-string', 42],
    ['null', null],
    ['an object', { href: 'https://example.com/' }],
    ['the empty string', ''],
    ['http', 'http://example.com/hook'],
    ['ftp', 'ftp://example.com/hook'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/plain,hello'],
    ['file:', 'file:///etc/passwd'],
    ['a relative path', '/hooks/1'],
    ['a scheme-relative URL', '//example.com/hook'],
    ['https:/ with one slash', 'https:/example.com/hook'],
    ['https: without slashes', 'https:example.com'],
    ['backslashes', 'https:\\\\example.com\\hook'],
    ['user and password', 'https://u:p@x.com'],
    ['a user only', 'https://u@x.com'],
    ['an empty userinfo', 'https://@x.com/'],
    ['a URL over 2,048 characters', longUrl(MAX_HOOK_URL_LENGTH + 1)],
    ['an empty host', 'https:///hook'],
    ['an empty host before a valid name', 'https:///example.com/hook'],
    ['only a port', 'https://:443/'],
    ['a space in the host', 'https://exa mple.com'],
    ['a space in the path', 'https://example.com/a b'],
    ['leading whitespace', ' https://example.com/'],
    ['trailing newline', 'https://example.com/\n'],
    ['a newline in the host', 'https://x.com\n.evil'],
    ['a tab in the host', 'https://x.com\t.evil'],
    ['a NUL', 'https://example.com/\u0000'],
    ['a non-breaking space', 'https://example.com/\u00a0'],
    ['a zero-width space', 'https://exam\u200bple.com/'],
    ['a label starting with -', 'https://-bad.com'],
    ['a label ending with -', 'https://bad-.com'],
    ['an empty label', 'https://a..com'],
    ['a leading dot', 'https://.com'],
    ['two trailing dots', 'https://example.com../'],
    ['an underscore', 'https://x_y.com/'],
    ['a label over 63 characters', `https://${'a'.repeat(64)}.com/`],
    ['a name over 253 characters', `https://${Array(64).fill('abc').join('.')}.com/`],
    ['a single-label name', 'https://intranet/'],
    ['port 0', 'https://example.com:0/'],
    ['port 65536', 'https://example.com:65536/'],
    ['localhost', 'https://localhost/'],
    ['localhost with a port', 'https://localhost:8443/'],
    ['localhost.', 'https://localhost./'],
    ['LOCALHOST', 'https://LOCALHOST/'],
    ['*.localhost', 'https://foo.localhost/'],
    ['*.localhost.', 'https://foo.localhost./'],
    ['loopback IPv4', 'https://127.0.0.1/'],
    ['decimal loopback', 'https://2130706433/'],
    ['hex loopback', 'https://0x7f.1/'],
    ['octal loopback', 'https://017700000001/'],
    ['short loopback', 'https://127.1/'],
    ['IPv6 loopback', 'https://[::1]/'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/'],
    ['IPv6 unique-local', 'https://[fd00::1]/'],
    ['IPv6 link-local', 'https://[fe80::1]/'],
    ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data'],
    ['10/8', 'https://10.0.0.1/'],
    ['172.16/12', 'https://172.16.5.4/'],
    ['192.168/16', 'https://192.168.0.1/'],
    ['CGNAT', 'https://100.64.0.1/'],
    ['multicast', 'https://224.0.0.1/'],
    ['unspecified', 'https://0.0.0.0/'],
    ['0.0.0.0/8', 'https://0.1.2.3/'],
    ['broadcast', 'https://255.255.255.255/'],
    ['an invalid IPv4', 'https://1.2.3.256/'],
  ])('%s', (_label, raw) => {
    const result = checkHookUrl(raw, strict);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toEqual(expect.any(String));
  });
});

describe('checkHookUrl accepts', () => {
  it.each([
    ['https://example.com/hook', 'https://example.com/hook'],
    ['https://example.com:8443/hook', 'https://example.com:8443/hook'],
    ['https://example.com:65535/', 'https://example.com:65535/'],
    ['https://example.com/hook?token=abc&x=1', 'https://example.com/hook?token=abc&x=1'],
    ['https://xn--bcher-kva.example/', 'https://xn--bcher-kva.example/'],
    ['https://hooks.eu-west-1.example.co.uk/a/b', 'https://hooks.eu-west-1.example.co.uk/a/b'],
    ['https://example.com./', 'https://example.com./'],
    ['HTTPS://Example.COM/Hook', 'https://example.com/Hook'],
    ['https://8.8.8.8/hook', 'https://8.8.8.8/hook'],
    ['https://[2606:4700:4700::1111]/hook', 'https://[2606:4700:4700::1111]/hook'],
    ['https://1.com/', 'https://1.com/'],
    [longUrl(MAX_HOOK_URL_LENGTH), longUrl(MAX_HOOK_URL_LENGTH)],
  ])('%s', (raw, href) => {
    const result = checkHookUrl(raw, strict);
    expect(result).toEqual({ ok: true, url: expect.any(URL) });
    expect(result.ok && result.url.href).toBe(href);
  });
});

describe('checkHookUrl with allowPrivateTargets', () => {
  it.each([
    'https://localhost/',
    'https://localhost:8443/hook',
    'https://localhost./',
    'https://foo.localhost/',
    'https://127.0.0.1:8443/hook',
    'https://2130706433/',
    'https://[::1]/',
    'https://10.0.0.1/',
    'https://169.254.169.254/latest/meta-data',
  ])('accepts the private target %s', (raw) => {
    expect(checkHookUrl(raw, lenient).ok).toBe(true);
  });

  it.each(['http://localhost/', 'http://127.0.0.1/', 'https://u:p@localhost/', 'https://intranet/', 'https://a..localhost/'])(
    'still refuses %s',
    (raw) => {
      expect(checkHookUrl(raw, lenient).ok).toBe(false);
    },
  );
});

describe('checkHookUrl reasons', () => {
  it('says why, for the logs', () => {
    expect(checkHookUrl('http://example.com/', strict)).toEqual({ ok: false, reason: 'not an absolute https:// URL' });
    expect(checkHookUrl('https://u:p@x.com', strict)).toEqual({ ok: false, reason: 'has credentials' });
    expect(checkHookUrl('https://0x7f.1/', strict)).toEqual({ ok: false, reason: '127.0.0.1 is not a public address' });
  });
});

describe('isHookUrl, the rule of messages that carry a hook URL', () => {
  class Carrier {
    @IsHookUrl()
    url: unknown;
  }
  const valid = (url: unknown) => validateSync(Object.assign(new Carrier(), { url })).length === 0;

  it.each([
    'https://host.example.com./x',
    'https://example.com/hook',
    'https://localhost:8443/hook',
    'https://localhost./',
    'https://127.0.0.1:8443/hook',
    'https://[::1]/',
    'https://2130706433/',
    'https://xn--bcher-kva.example/',
    longUrl(MAX_HOOK_URL_LENGTH),
  ])('Test scenario: %s, which a registry accepts (with or without private targets), passes', (raw) => {
    expect(checkHookUrl(raw, lenient).ok).toBe(true);
    expect(isHookUrl(raw)).toBe(true);
    expect(valid(raw)).toBe(true);
  });

  it.each<unknown>(['http://example.com/', 'https://u:p@x.com', 'https://intranet/', longUrl(MAX_HOOK_URL_LENGTH + 1), 42, null])('Test scenario: %s, which no registry accepts, fails', (raw) => {
    expect(isHookUrl(raw)).toBe(false);
    expect(valid(raw)).toBe(false);
  });
});
