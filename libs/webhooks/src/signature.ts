import { createHmac } from 'node:crypto';
import { SIGNING_SECRET_PREFIX } from './secrets';

export interface WebhookToSign {
  /** The `webhook-id` header: the same on every retry of one event to one hook. */
  id: string;
  /** The `webhook-timestamp` header: Unix seconds of this attempt. */
  timestamp: number;
  /** The exact bytes sent, as a string: signing a re-serialized object would not verify. */
  body: string;
  /** Every active `whsec_...` secret; more than one while a rotation overlaps. */
  secrets: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The Standard Webhooks `webhook-signature` header: `v1,<base64 HMAC-SHA256>` per
 * secret, space separated, over `<id>.<timestamp>.<body>`.
 */
export function signWebhook({ id, timestamp, body, secrets }: WebhookToSign): string {
  // An unsigned request would look valid to nobody; better to fail loudly here.
  if (secrets.length === 0) throw new Error('no signing secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error('timestamp must be whole Unix seconds');
  const content = `${id}.${timestamp}.${body}`;
  return secrets.map((secret) => `v1,${createHmac('sha256', signingKey(secret)).update(content, 'utf8').digest('base64')}`).join(' ');
}

function signingKey(secret: string): Buffer {
  const encoded = secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : '';
  // Buffer.from(_, 'base64') skips characters it does not know, so a mangled secret
  // would silently sign with a different key.
  if (!BASE64.test(encoded)) throw new Error('signing secret is not whsec_<base64>');
  return Buffer.from(encoded, 'base64');
}
