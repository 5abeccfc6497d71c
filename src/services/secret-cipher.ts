/**
 * Secrets at rest: AES-256-GCM under the server's app key (as upstream Optimus: the first 32 bytes
 * of `serve.app_key`), a random 12-byte nonce per value, stored as base64(nonce | ciphertext | tag).
 * Listings show a digest of the ciphertext (HMAC-SHA-256 under the key), never the value.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { OptimusError } from '../core/errors.js';

export interface SecretCipher {
  encrypt(plain: Buffer): { ciphertext: string; digest: string };
  decrypt(ciphertext: string): Buffer;
}

export function createSecretCipher(appKey: string): SecretCipher {
  // Stryker disable next-line StringLiteral: utf8 is also Buffer.from's default; it is spelled out for the reader
  const raw = Buffer.from(appKey, 'utf8');
  if (raw.length < 32) {
    throw new OptimusError('APP_KEY_INVALID', 'the app key must be at least 32 bytes', {
      category: 'usage',
      hint: 'set serve.app_key (or OPTIMUS_APP_KEY) to 32+ characters, or leave it unset to generate one',
    });
  }
  const key = raw.subarray(0, 32);
  const digest = (ciphertext: string) =>
    createHmac('sha256', key).update('user defined secrets').update(ciphertext).digest('base64');
  return {
    encrypt(plain) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      const ciphertext = Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
      return { ciphertext, digest: digest(ciphertext) };
    },
    decrypt(ciphertext) {
      const buf = Buffer.from(ciphertext, 'base64');
      if (buf.length < 28)
        throw new OptimusError('SECRET_CORRUPT', 'stored secret is too short to decrypt', {
          category: 'internal',
        });
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      try {
        return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
      } catch {
        throw new OptimusError(
          'SECRET_UNDECRYPTABLE',
          'a stored secret cannot be decrypted with this app key',
          {
            category: 'internal',
            hint: 'the server runs with a different app key than the one the secret was stored with',
          },
        );
      }
    },
  };
}
