import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNING_SECRET_PREFIX = 'whsec_';
export const API_KEY_PREFIX = 'phk_';

/** A Standard Webhooks signing secret: `whsec_` + standard base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** An account API key, shown once. base64url so it sits in a header without escaping. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored instead of the key. The key has 256 random bits, so no salt or KDF is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Constant-time string comparison. Comparing digests rather than the strings keeps
 * timingSafeEqual's equal-length requirement from leaking the expected length.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
