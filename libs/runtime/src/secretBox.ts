import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for secrets kept in PostgreSQL (webhook signing secrets, partner
 * credentials, Stripe keys): AES-256-GCM, `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url).
 * Rotation: set the new key as SECRETS_KEY and the old one in SECRETS_KEY_PREVIOUS; values
 * are read with either and written with the new one (README, "Rotating SECRETS_KEY").
 */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const keyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

export const parseKey = (b64: string, name = 'SECRETS_KEY'): Buffer => {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) {
    throw new SecretBoxError(`${name} must be 32 random bytes, base64-encoded (openssl rand -base64 32)`);
  }
  return key;
};

export const createSecretBox = (current: Buffer, previous: Buffer[] = []): SecretBox => {
  const keys = new Map([current, ...previous].map((k) => [keyId(k), k] as const));
  const currentId = keyId(current);
  return {
    seal: (plain) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url'));
      return ['v1', currentId, ...parts].join('.');
    },
    open: (sealed) => {
      const [version, id, iv, tag, ct] = sealed.split('.');
      if (version !== 'v1' || !id || !iv || !tag || ct === undefined) throw new SecretBoxError('not a sealed secret');
      const key = keys.get(id);
      if (!key) throw new SecretBoxError(`sealed with unknown key ${id}: set it as SECRETS_KEY_PREVIOUS`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new SecretBoxError('sealed secret failed authentication', { cause });
      }
    },
  };
};
