import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * What keeps Redis free of secrets: keys are keyed hashes (HMAC-SHA256) of what they count, and a
 * token handed between replicas is sealed with AES-256-GCM. Both keys are derived with HKDF from
 * the app token, which every replica holds already (and which can mint tokens anyway), so sharing
 * needs no new secret; a replica with another app token can neither read nor forge the others' data.
 */
export interface RedisSecrets {
  /** A key under `prefix`, naming `value` without revealing it. */
  key(prefix: string, value: string): string;
  /** Seals `plain`, bound to `context` (the Redis key it travels under): IV, tag and ciphertext, base64url. */
  seal(plain: string, context: string): string;
  /** Opens what `seal` made for the same `context`; throws when it was altered or sealed elsewhere. */
  open(sealed: string, context: string): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function redisSecrets(appToken: string): RedisSecrets {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', appToken, 'circle-auth-gateway', info, 32));
  const hashKey = derive('redis key hash');
  const sealKey = derive('redis flight seal');
  return {
    key: (prefix, value) => `${prefix}${createHmac('sha256', hashKey).update(value).digest('base64url')}`,
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed, context) {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
