import { isIP } from 'node:net';
import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * How the email-notifier protects its SMTP connection:
 * - `implicit`: smtps:// (TLS from the first byte, port 465);
 * - `starttls`: smtp:// to a server that is not local: the notifier requires STARTTLS and
 *   sends nothing if the server does not offer it (nodemailer's `requireTLS`);
 * - `optional`: a local server (a sink on the same machine) or SMTP_ALLOW_PLAINTEXT=true:
 *   STARTTLS when offered, plain text otherwise (nodemailer's default).
 * A password and the emails (which name webhook URLs) cross the network only encrypted,
 * unless the operator says otherwise.
 */
export type SmtpTls = 'implicit' | 'starttls' | 'optional';

export type SmtpTlsDecision = { ok: true; tls: SmtpTls } | { ok: false; problem: string };

/** nodemailer reads these from the URL's query and lets them override the code's options. */
const WEAKENING = [
  ['requireTLS', 'false'],
  ['ignoreTLS', 'true'],
  ['secure', 'false'],
] as const;

export function decideSmtpTls(smtpUrl: string, allowPlaintext: boolean): SmtpTlsDecision {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return { ok: false, problem: 'not a URL' };
  }
  const local = isLocalHost(url.hostname);
  if (!allowPlaintext && !local) {
    const weakening = WEAKENING.find(([name, value]) => url.searchParams.get(name) === value);
    if (weakening) return { ok: false, problem: `turns TLS off (${weakening[0]}=${weakening[1]}) for a server that is not local` };
  }
  if (url.protocol === 'smtps:') return { ok: true, tls: 'implicit' };
  return { ok: true, tls: local || allowPlaintext ? 'optional' : 'starttls' };
}

/** localhost, *.localhost and loopback addresses: a connection that never leaves the machine. */
function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export const SMTP_TLS_RULE = 'must not turn TLS off for a server that is not local (smtps://, or smtp:// where STARTTLS is then required); set SMTP_ALLOW_PLAINTEXT=true to allow plain text';

/** SMTP_URL passes decideSmtpTls with the object's SMTP_ALLOW_PLAINTEXT. */
export function IsSmtpUrlWithTls(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSmtpUrlWithTls',
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          // Not a URL at all is IsUrlList's to report.
          if (typeof value !== 'string' || !URL.canParse(value)) return true;
          const allowPlaintext = (args?.object as { SMTP_ALLOW_PLAINTEXT?: unknown } | undefined)?.SMTP_ALLOW_PLAINTEXT === true;
          return decideSmtpTls(value, allowPlaintext).ok;
        },
      },
    },
    { message: SMTP_TLS_RULE, ...validationOptions },
  );
}
