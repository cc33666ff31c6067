import { isSealed, parseSecretsKey, SecretBox, SEALED_PREFIX } from './secret-box';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('hex');
const KEY_C = Buffer.alloc(32, 3).toString('base64');
const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

/** Replaces one base64 part (2 iv, 3 tag, 4 ciphertext) of a sealed value with other bytes of the same length. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.slice(SEALED_PREFIX.length).split(':');
  const bytes = Buffer.from(parts[part - 1], 'base64');
  bytes[0] ^= 1;
  parts[part - 1] = bytes.toString('base64');
  return SEALED_PREFIX + parts.join(':');
}

describe('parseSecretsKey', () => {
  it.each([
    ['64 hex digits', KEY_B, true],
    ['base64 of 32 bytes', KEY_A, true],
    ['base64url of 32 bytes', Buffer.alloc(32, 255).toString('base64url'), true],
    ['base64 of 16 bytes', Buffer.alloc(16, 1).toString('base64'), false],
    ['63 hex digits', KEY_B.slice(1), false],
    ['a passphrase', 'correct horse battery staple', false],
    ['empty', '', false],
  ])('Test scenario: %s (accepted or not as the table says)', (_, text, accepted) => {
    expect(parseSecretsKey(text)?.length === 32).toBe(accepted);
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(KEY_A);

  it('Test scenario: a sealed value opens to the plaintext, holds no trace of it, and differs at each seal', () => {
    const sealed = box.seal(SECRET);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('whsec_');
    expect(sealed).not.toContain(SECRET.slice(6, 20));
    expect(sealed.startsWith(`${SEALED_PREFIX}${box.keyId}:`)).toBe(true);
    expect(box.open(sealed)).toBe(SECRET);
    expect(box.seal(SECRET)).not.toBe(sealed);
  });

  it.each([
    ['another key', () => new SecretBox(KEY_B).open(box.seal(SECRET)), /neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS/],
    ['a tampered iv', () => box.open(tamper(box.seal(SECRET), 2)), /does not authenticate/],
    ['a tampered tag', () => box.open(tamper(box.seal(SECRET), 3)), /does not authenticate/],
    ['a tampered ciphertext', () => box.open(tamper(box.seal(SECRET), 4)), /does not authenticate/],
    ['a truncated tag', () => box.open(box.seal(SECRET).replace(/:([^:]+):([^:]+)$/, (_, tag: string, ct: string) => `:${Buffer.from(tag, 'base64').subarray(0, 4).toString('base64')}:${ct}`)), /does not authenticate/],
    ['a missing part', () => box.open(`${SEALED_PREFIX}${box.keyId}:AAAA:BBBB`), /malformed/],
  ])('Test scenario: opening with %s fails without revealing the value', (_, open, message) => {
    expect(open).toThrow(message);
    try {
      open();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('whsec_');
    }
  });

  it('Test scenario: rotation — the new key seals, the previous ones still open, a key dropped from the list no longer opens', () => {
    const sealedUnderA = box.seal(SECRET);
    const sealedUnderC = new SecretBox(KEY_C).seal(SECRET);
    const rotated = new SecretBox(KEY_B, `${KEY_A}, ${KEY_C}`);
    expect(rotated.open(sealedUnderA)).toBe(SECRET);
    expect(rotated.open(sealedUnderC)).toBe(SECRET);
    const resealed = rotated.seal(SECRET);
    expect(resealed.startsWith(`${SEALED_PREFIX}${rotated.keyId}:`)).toBe(true);
    expect(rotated.keyId).not.toBe(box.keyId);
    expect([rotated.needsReseal(sealedUnderA), rotated.needsReseal(resealed), rotated.needsReseal(SECRET)]).toEqual([true, false, true]);
    expect(() => new SecretBox(KEY_B).open(sealedUnderA)).toThrow(/neither/);
  });

  it('Test scenario: a value in clear (a store written before encryption) passes through open', () => {
    expect(box.open(SECRET)).toBe(SECRET);
  });

  it.each([
    ['a bad SECRETS_KEY', () => new SecretBox('short'), /^SECRETS_KEY must be 32 bytes/],
    ['a bad SECRETS_KEY_PREVIOUS entry', () => new SecretBox(KEY_A, `${KEY_B},nope`), /^each of SECRETS_KEY_PREVIOUS must be 32 bytes/],
  ])('Test scenario: %s is refused, naming the variable', (_, build, message) => {
    expect(build).toThrow(message);
  });
});
