import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts hook signing secrets (and any other secret the registry hands to another
 * service) with AES-256-GCM under SECRETS_KEY, so they never rest in Postgres nor
 * travel on REGISTRY in clear. Only the services that use a secret hold the key.
 *
 * Sealed text: `enc:v1:<key id>:<iv>:<tag>:<ciphertext>` (base64 parts). The key id (the
 * first 8 hex digits of the key's SHA-256) says which key sealed a value, so during a
 * rotation the new key seals and the previous ones (SECRETS_KEY_PREVIOUS) still open.
 */
export const SEALED_PREFIX = 'enc:v1:';

const KEY_BYTES = 32;
const IV_BYTES = 12;
export const SECRETS_KEY_RULE = 'must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)';

/** The 32 bytes of a SECRETS_KEY written as hex or base64, or undefined if it is neither. */
export function parseSecretsKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  return undefined;
}

/** A fresh key in the form SECRETS_KEY takes. */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** Why a sealed value cannot be opened; the message never contains the value. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  /**
   * @param current SECRETS_KEY: seals, and opens.
   * @param previous SECRETS_KEY_PREVIOUS, comma-separated: only open, while values sealed
   *   under an older key still exist (until the registry has re-sealed them).
   */
  constructor(current: string, previous = '') {
    const key = parseSecretsKey(current);
    if (!key) throw new SecretBoxError(`SECRETS_KEY ${SECRETS_KEY_RULE}`);
    this.currentId = keyId(key);
    this.keys.set(this.currentId, key);
    for (const text of previous.split(',').filter((t) => t.trim() !== '')) {
      const old = parseSecretsKey(text);
      if (!old) throw new SecretBoxError(`each of SECRETS_KEY_PREVIOUS ${SECRETS_KEY_RULE}`);
      if (!this.keys.has(keyId(old))) this.keys.set(keyId(old), old);
    }
  }

  /** The id of the key that seals now (not secret: a hash prefix, to tell keys apart). */
  get keyId(): string {
    return this.currentId;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${this.currentId}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ciphertext.toString('base64')}`;
  }

  /**
   * The plaintext of a sealed value. A value that is not sealed is returned as it is: a
   * store written before encryption keeps working until the registry re-seals it at start.
   */
  open(value: string): string {
    if (!isSealed(value)) return value;
    const parts = value.slice(SEALED_PREFIX.length).split(':');
    if (parts.length !== 4) throw new SecretBoxError('malformed sealed secret');
    const [id, iv, tag, ciphertext] = parts;
    const key = this.keys.get(id);
    if (!key) throw new SecretBoxError(`sealed under key ${id}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS`);
    try {
      // A fixed tag length: Node would otherwise accept a truncated tag, which is easier to forge.
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`sealed secret does not authenticate under key ${id}`);
    }
  }

  /** Whether a value should be sealed again: in clear, or sealed under a previous key. */
  needsReseal(value: string): boolean {
    return !value.startsWith(`${SEALED_PREFIX}${this.currentId}:`);
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}
