import { destinationAddressProblem, maskDestinationUrl, parseDestinationUrl, resolveDestination } from './destination-url';

describe('destination connection URLs', () => {
  it.each([
    ['postgres://loader:s3cret@warehouse.internal/analytics', { host: 'warehouse.internal', port: 5432, user: 'loader', password: 's3cret', database: 'analytics', sslmode: 'disable' }],
    ['postgresql://loader:p%40ss%3Aw@10.0.0.5:6543/dw?sslmode=require', { host: '10.0.0.5', port: 6543, user: 'loader', password: 'p@ss:w', database: 'dw', sslmode: 'require' }],
    ['postgres://u@[fd12::5]:5432/db?sslmode=verify-full', { host: 'fd12::5', port: 5432, user: 'u', password: '', database: 'db', sslmode: 'verify-full' }],
  ])('Test scenario: %s parses', (text, expected) => {
    expect(parseDestinationUrl(text)).toEqual(expected);
  });

  it.each([
    ['another scheme', 'mysql://u:p@h/db'],
    ['no database', 'postgres://u:p@h'],
    ['no user', 'postgres://h/db'],
    ['a parameter other than sslmode', 'postgres://u:p@h/db?host=/var/run/postgresql'],
    ['an unknown sslmode', 'postgres://u:p@h/db?sslmode=maybe'],
    ['a port out of range', 'postgres://u:p@h:70000/db'],
    ['a path in the database', 'postgres://u:p@h/db/x'],
    ['not a URL', 'host=h dbname=db'],
    ['too long', `postgres://u:p@h/${'d'.repeat(2048)}`],
  ])('Test scenario: %s is refused', (_, text) => {
    expect(parseDestinationUrl(text)).toBeUndefined();
  });

  it('Test scenario: the password is masked, the rest kept', () => {
    expect(maskDestinationUrl('postgres://loader:s3cret@warehouse.internal:5432/analytics?sslmode=require')).toBe('postgres://loader:***@warehouse.internal:5432/analytics?sslmode=require');
    expect(maskDestinationUrl('postgres://loader@warehouse.internal/analytics')).toBe('postgres://loader@warehouse.internal/analytics');
  });

  it.each([
    ['8.8.8.8', false, undefined],
    ['10.1.2.3', false, undefined],
    ['192.168.1.10', false, undefined],
    ['fd12::5', false, undefined],
    ['127.0.0.1', false, '127.0.0.1: loopback address'],
    ['::1', false, '::1: loopback address'],
    ['::ffff:127.0.0.1', false, '::ffff:127.0.0.1: loopback address'],
    ['169.254.169.254', false, '169.254.169.254: linkLocal address'],
    ['fd00:ec2::254', false, 'fd00:ec2::254: cloud metadata address'],
    ['100.100.100.200', false, '100.100.100.200: cloud metadata address'],
    ['FD00:EC2:0:0:0:0:0:254', false, 'FD00:EC2:0:0:0:0:0:254: cloud metadata address'],
    ['0.0.0.0', false, '0.0.0.0: unspecified address'],
    ['127.0.0.1', true, undefined],
    ['not-an-ip', true, 'not-an-ip: not an address'],
  ])('Test scenario: %s (ALLOW_PRIVATE_TARGETS=%s) → %s', (ip, allow, expected) => {
    expect(destinationAddressProblem(ip, allow)).toBe(expected);
  });

  it('Test scenario: a name that resolves to a public and a loopback address is refused, whichever would be picked', async () => {
    const url = parseDestinationUrl('postgres://u:p@rebind.example/db')!;
    await expect(resolveDestination(url, false, async () => ['8.8.8.8', '127.0.0.1'])).rejects.toThrow('connection.url points at an address a destination may not use');
    await expect(resolveDestination(url, false, async () => ['8.8.8.8'])).resolves.toBe('8.8.8.8');
  });
});
