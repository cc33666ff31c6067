import { ValidateBy, ValidationOptions } from 'class-validator';
import { isPublicAddress } from './private-address';

export type HookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export const MAX_HOOK_URL_LENGTH = 2048;

// Any whitespace or control character, ASCII or not. The WHATWG parser silently strips
// tabs and newlines (`https://x.com\n.evil` becomes `x.com.evil`) and trims the ends, so
// what it parses would not be what the user typed.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/u;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// After WHATWG parsing an IPv4 host is always in dotted decimal form.
const IPV4_HOST = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The create-time check of a hook URL. It refuses what can never be a valid target and,
 * unless private targets are allowed, the targets that are obviously not public.
 * A DNS name that resolves to a private address passes here: the dispatcher checks the
 * address it actually connects to.
 */
export function checkHookUrl(raw: unknown, opts: { allowPrivateTargets: boolean }): HookUrlCheck {
  if (typeof raw !== 'string') return refuse('not a string');
  if (raw.length > MAX_HOOK_URL_LENGTH) return refuse(`longer than ${MAX_HOOK_URL_LENGTH} characters`);
  if (WHITESPACE_OR_CONTROL.test(raw)) return refuse('contains whitespace or a control character');
  // The parser is lenient with special schemes: `https:/x`, `https:\\x` and `https:x`
  // all become `https://x/`. Only the plain absolute form is accepted.
  if (!/^https:\/\//i.test(raw)) return refuse('not an absolute https:// URL');

  // `https:///x.com` parses as host x.com, the parser skipping any number of slashes.
  const rawAuthority = raw.slice('https://'.length).split(/[/?#\\]/, 1)[0];
  if (rawAuthority === '') return refuse('empty host');

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not parsable as a URL');
  }
  if (url.protocol !== 'https:') return refuse(`protocol ${url.protocol} is not https:`);
  // The parser drops an empty userinfo (`https://@x.com`), so look at the raw authority too.
  if (url.username || url.password || rawAuthority.includes('@')) return refuse('has credentials');
  if (url.port === '0') return refuse('port 0');

  const host = checkHost(url.hostname, opts.allowPrivateTargets);
  if (host !== true) return refuse(host);
  return { ok: true, url };
}

/**
 * A URL some registry accepts: private targets are a deployment's choice
 * (ALLOW_PRIVATE_TARGETS), not the URL's, so a message that carries a hook's URL
 * (`hook.undeliverable`) takes any URL the registry could have stored. One rule, so that
 * no URL the registry accepts can make the dispatcher's events fail their contract.
 */
export function isHookUrl(raw: unknown): boolean {
  return checkHookUrl(raw, { allowPrivateTargets: true }).ok;
}

/** class-validator's form of isHookUrl, for event classes. */
export function IsHookUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isHookUrl', validator: { validate: isHookUrl, defaultMessage: () => '$property must be a hook URL the registry accepts (https, a valid host, no credentials, at most 2,048 characters)' } }, options);
}

/** True, or why the (already WHATWG-normalized, lower-case) host is refused. */
function checkHost(hostname: string, allowPrivateTargets: boolean): true | string {
  if (hostname.startsWith('[')) {
    const ip = hostname.slice(1, -1);
    return allowPrivateTargets || isPublicAddress(ip) ? true : `${ip} is not a public address`;
  }
  if (IPV4_HOST.test(hostname)) {
    return allowPrivateTargets || isPublicAddress(hostname) ? true : `${hostname} is not a public address`;
  }

  // One trailing dot is a valid fully-qualified name; dropping it here is what makes
  // `localhost.` count as `localhost`.
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name === 'localhost' || name.endsWith('.localhost')) {
    if (!allowPrivateTargets) return `${hostname} is a loopback name`;
    // Single-label `localhost` is the one name without a dot worth allowing, for local runs.
    if (name === 'localhost') return true;
  }
  if (name.length === 0 || name.length > 253) return `host ${hostname} has an invalid length`;
  const labels = name.split('.');
  if (labels.length < 2) return `host ${hostname} is not a fully-qualified name`;
  const bad = labels.find((label) => !DNS_LABEL.test(label));
  if (bad !== undefined) return `host ${hostname} has an invalid label ${JSON.stringify(bad)}`;
  return true;
}

function refuse(reason: string): HookUrlCheck {
  return { ok: false, reason };
}
