import { ConfigError, EmailNotifierEnv, loadEnv } from './index';
import { decideSmtpTls } from './smtp-tls';

describe('decideSmtpTls', () => {
  it.each([
    ['the default local sink needs no TLS', 'smtp://127.0.0.1:1025', false, { ok: true, tls: 'optional' }],
    ['localhost needs no TLS', 'smtp://localhost:1025', false, { ok: true, tls: 'optional' }],
    ['a *.localhost name needs no TLS', 'smtp://mail.localhost:25', false, { ok: true, tls: 'optional' }],
    ['any 127/8 address needs no TLS', 'smtp://127.0.0.2:25', false, { ok: true, tls: 'optional' }],
    ['IPv6 loopback needs no TLS', 'smtp://[::1]:25', false, { ok: true, tls: 'optional' }],
    ['a remote smtp:// server must offer STARTTLS', 'smtp://user:pw@smtp.example.com:587', false, { ok: true, tls: 'starttls' }],
    ['a remote server on port 25 must offer STARTTLS', 'smtp://relay.internal:25', false, { ok: true, tls: 'starttls' }],
    ['a private address is not local: STARTTLS', 'smtp://10.0.0.5:587', false, { ok: true, tls: 'starttls' }],
    ['a compose service name is not local: STARTTLS', 'smtp://maildev:1025', false, { ok: true, tls: 'starttls' }],
    ['smtps:// is TLS from the first byte', 'smtps://user:pw@smtp.example.com:465', false, { ok: true, tls: 'implicit' }],
    ['SMTP_ALLOW_PLAINTEXT lets a remote server go without TLS', 'smtp://maildev:1025', true, { ok: true, tls: 'optional' }],
    ['SMTP_ALLOW_PLAINTEXT keeps smtps:// encrypted', 'smtps://smtp.example.com', true, { ok: true, tls: 'implicit' }],
    ['requireTLS=false in the URL is refused for a remote server', 'smtp://smtp.example.com:587?requireTLS=false', false, { ok: false, problem: 'turns TLS off (requireTLS=false) for a server that is not local' }],
    ['ignoreTLS=true in the URL is refused for a remote server', 'smtp://smtp.example.com:587?ignoreTLS=true', false, { ok: false, problem: 'turns TLS off (ignoreTLS=true) for a server that is not local' }],
    ['secure=false on smtps:// is refused for a remote server', 'smtps://smtp.example.com:465?secure=false', false, { ok: false, problem: 'turns TLS off (secure=false) for a server that is not local' }],
    ['ignoreTLS=true is the operator\'s choice with SMTP_ALLOW_PLAINTEXT', 'smtp://smtp.example.com:587?ignoreTLS=true', true, { ok: true, tls: 'optional' }],
    ['ignoreTLS=true to a local sink is fine', 'smtp://127.0.0.1:1025?ignoreTLS=true', false, { ok: true, tls: 'optional' }],
  ] as const)('Test scenario: %s', (_, url, allowPlaintext, expected) => {
    expect(decideSmtpTls(url, allowPlaintext)).toEqual(expected);
  });
});

describe('SMTP_URL and SMTP_ALLOW_PLAINTEXT in the notifier env', () => {
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      loadEnv(EmailNotifierEnv, env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('Test scenario: the defaults pass, SMTP_ALLOW_PLAINTEXT off', () => {
    expect(loadEnv(EmailNotifierEnv, {})).toMatchObject({ SMTP_URL: 'smtp://127.0.0.1:1025', SMTP_ALLOW_PLAINTEXT: false });
  });

  it('Test scenario: a URL that turns TLS off for a remote server stops the start, named, without the password', () => {
    expect(problems({ SMTP_URL: 'smtp://user:hunter2@smtp.example.com:587?ignoreTLS=true' })).toEqual([
      expect.stringMatching(/^SMTP_URL: must not turn TLS off for a server that is not local .*SMTP_ALLOW_PLAINTEXT=true/),
    ]);
    expect(problems({ SMTP_URL: 'smtp://user:hunter2@smtp.example.com:587?ignoreTLS=true' }).join('\n')).not.toContain('hunter2');
    expect(problems({ SMTP_URL: 'smtp://smtp.example.com:587?ignoreTLS=true', SMTP_ALLOW_PLAINTEXT: 'true' })).toEqual([]);
  });

  it('Test scenario: a URL that is not SMTP gets only the URL message', () => {
    expect(problems({ SMTP_URL: 'not a url' })).toEqual([expect.stringMatching(/^SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/)]);
  });
});
