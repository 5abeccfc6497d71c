import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretCipher } from '../../src/services/secret-cipher.js';

const KEY = 'an-app-key-of-exactly-32-bytes!!';

/** Upstream Optimus's format, built independently: base64(nonce | AES-256-GCM ciphertext | tag). */
function upstreamCiphertext(key: string, nonce: Buffer, plain: string): string {
  const c = createCipheriv('aes-256-gcm', Buffer.from(key).subarray(0, 32), nonce);
  return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]).toString('base64');
}

function refusal(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('the secret cipher', () => {
  it('gives back what it encrypted, for empty, small and 64 KiB values', () => {
    const cipher = createSecretCipher(KEY);
    for (const plain of [Buffer.alloc(0), Buffer.from('s3cr3t'), Buffer.alloc(64 * 1024, 0xab)]) {
      expect(cipher.decrypt(cipher.encrypt(plain).ciphertext).equals(plain)).toBe(true);
    }
  });

  it('never stores the value: the ciphertext is nonce, encrypted bytes and tag, new each time', () => {
    const cipher = createSecretCipher(KEY);
    const a = cipher.encrypt(Buffer.from('same value'));
    const b = cipher.encrypt(Buffer.from('same value'));
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.digest).not.toBe(b.digest);
    const raw = Buffer.from(a.ciphertext, 'base64');
    expect(raw.length).toBe(12 + 'same value'.length + 16);
    expect(raw.includes(Buffer.from('same value'))).toBe(false);
    expect(
      Buffer.from(a.ciphertext, 'base64')
        .subarray(0, 12)
        .equals(Buffer.from(b.ciphertext, 'base64').subarray(0, 12)),
    ).toBe(false);
  });

  it('reads secrets written by upstream Optimus with the same app key', () => {
    const ct = upstreamCiphertext(KEY, Buffer.alloc(12, 5), 'from upstream');
    expect(createSecretCipher(KEY).decrypt(ct).toString()).toBe('from upstream');
  });

  it('uses the first 32 bytes of a longer key, as upstream does', () => {
    const ct = createSecretCipher(KEY).encrypt(Buffer.from('v')).ciphertext;
    expect(createSecretCipher(`${KEY}-and-more`).decrypt(ct).toString()).toBe('v');
    expect(refusal(() => createSecretCipher(`X${KEY.slice(1)}`).decrypt(ct))).toBe('SECRET_UNDECRYPTABLE');
  });

  it('shows a digest that is an HMAC of the ciphertext under the key', () => {
    const { ciphertext, digest } = createSecretCipher(KEY).encrypt(Buffer.from('v'));
    const expected = createHmac('sha256', Buffer.from(KEY))
      .update('user defined secrets')
      .update(ciphertext)
      .digest('base64');
    expect(digest).toBe(expected);
  });

  it('refuses an app key shorter than 32 bytes, counting bytes not characters', () => {
    expect(refusal(() => createSecretCipher('k'.repeat(31)))).toBe('APP_KEY_INVALID');
    expect(refusal(() => createSecretCipher('k'.repeat(32)))).toBe('accepted');
    expect(refusal(() => createSecretCipher('é'.repeat(16)))).toBe('accepted');
    try {
      createSecretCipher('short');
    } catch (e) {
      expect(e).toMatchObject({
        category: 'usage',
        message: 'the app key must be at least 32 bytes',
        hint: expect.stringContaining('OPTIMUS_APP_KEY'),
      });
    }
  });

  it('refuses a secret stored under another key, saying so', () => {
    const ct = createSecretCipher(KEY).encrypt(Buffer.from('v')).ciphertext;
    try {
      createSecretCipher('z'.repeat(32)).decrypt(ct);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        code: 'SECRET_UNDECRYPTABLE',
        category: 'internal',
        message: 'a stored secret cannot be decrypted with this app key',
        hint: expect.stringContaining('different app key'),
      });
    }
  });

  it('notices any change to the nonce, the encrypted bytes or the tag', () => {
    const cipher = createSecretCipher(KEY);
    const raw = Buffer.from(cipher.encrypt(Buffer.from('tamper me')).ciphertext, 'base64');
    for (const at of [0, 11, 12, 20, raw.length - 16, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 1;
      expect(
        refusal(() => cipher.decrypt(bad.toString('base64'))),
        String(at),
      ).toBe('SECRET_UNDECRYPTABLE');
    }
  });

  it('reports a stored value too short to hold nonce and tag as corrupt, and decrypts the shortest one', () => {
    const cipher = createSecretCipher(KEY);
    expect(refusal(() => cipher.decrypt(Buffer.alloc(27).toString('base64')))).toBe('SECRET_CORRUPT');
    expect(refusal(() => cipher.decrypt(''))).toBe('SECRET_CORRUPT');
    try {
      cipher.decrypt('');
    } catch (e) {
      // internal: the server answers 500 without this text; the text is for its log.
      expect(e).toMatchObject({ category: 'internal', message: 'stored secret is too short to decrypt' });
    }
    const empty = cipher.encrypt(Buffer.alloc(0)).ciphertext;
    expect(Buffer.from(empty, 'base64').length).toBe(28);
    expect(cipher.decrypt(empty).length).toBe(0);
  });
});
