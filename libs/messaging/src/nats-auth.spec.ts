import { nkeys } from 'nats';
import { natsAuthOptions, NatsAuthSettings } from './nats-auth';

const none: NatsAuthSettings = { NATS_CREDS: '', NATS_USER: '', NATS_PASSWORD: '', NATS_TLS_CA: '' };
const user = nkeys.createUser();
const CREDS = `-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln
------END NATS USER JWT------

-----BEGIN USER NKEY SEED-----
${new TextDecoder().decode(user.getSeed())}
------END USER NKEY SEED------
`;
const files: Record<string, string> = { '/creds/svc.creds': CREDS, '/tls/ca.pem': '-----BEGIN CERTIFICATE-----\n' };
const readFile = (path: string): Uint8Array => {
  if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return new TextEncoder().encode(files[path]);
};

describe('natsAuthOptions', () => {
  it.each([
    ['nothing set: anonymous, as the local development server expects', {}, {}],
    ['a user and password', { NATS_USER: 'dispatcher', NATS_PASSWORD: 'pw' }, { user: 'dispatcher', pass: 'pw' }],
    ['a CA alone: TLS, anonymous', { NATS_TLS_CA: '/tls/ca.pem' }, { tls: { caFile: '/tls/ca.pem' } }],
    ['a user over TLS', { NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TLS_CA: '/tls/ca.pem' }, { user: 'u', pass: 'p', tls: { caFile: '/tls/ca.pem' } }],
  ])('Test scenario: %s', (_, settings, expected) => {
    expect(natsAuthOptions({ ...none, ...settings }, readFile)).toEqual(expected);
  });

  it('Test scenario: a creds file gives an authenticator that signs the server nonce with its seed and presents its JWT', () => {
    const options = natsAuthOptions({ ...none, NATS_CREDS: '/creds/svc.creds' }, readFile);
    expect(Object.keys(options)).toEqual(['authenticator']);
    const auth = options.authenticator as (nonce?: string) => { jwt?: string; nkey?: string; sig?: string };
    const answer = auth('nonce');
    expect(answer.jwt).toBe('eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln');
    expect(answer.nkey).toBe(user.getPublicKey());
    // (Uint8Arrays of this realm: tweetnacl checks instanceof.)
    expect(user.verify(new Uint8Array(Buffer.from('nonce')), new Uint8Array(Buffer.from(answer.sig ?? '', 'base64url')))).toBe(true);
  });

  it.each([
    ['creds and a user', { NATS_CREDS: '/creds/svc.creds', NATS_USER: 'u', NATS_PASSWORD: 'p' }, 'NATS_CREDS and NATS_USER/NATS_PASSWORD are two ways to authenticate: set one of them'],
    ['a user without password', { NATS_USER: 'u' }, 'NATS_USER and NATS_PASSWORD must be set together'],
    ['a password without user', { NATS_PASSWORD: 'p' }, 'NATS_USER and NATS_PASSWORD must be set together'],
    ['a creds file that is not there', { NATS_CREDS: '/creds/missing.creds' }, 'NATS_CREDS: cannot read /creds/missing.creds (ENOENT)'],
    ['a CA file that is not there', { NATS_TLS_CA: '/tls/missing.pem' }, 'NATS_TLS_CA: cannot read /tls/missing.pem (ENOENT)'],
  ])('Test scenario: %s stops the start, naming the variables and never a password', (_, settings, message) => {
    expect(() => natsAuthOptions({ ...none, ...settings }, readFile)).toThrow(message);
    try {
      natsAuthOptions({ ...none, ...settings }, readFile);
    } catch (err) {
      expect((err as Error).message).not.toContain('"p"');
    }
  });
});
