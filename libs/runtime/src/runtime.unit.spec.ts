import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, baseEnv, loadConfig } from './config.js';
import { SecretBoxError, createSecretBox, parseKey } from './secretBox.js';
import { createTtlCache } from './ttlCache.js';

describe('loadConfig', () => {
  const schema = z.object(baseEnv);
  it('names every missing or invalid variable in one message', () => {
    let message = '';
    try {
      loadConfig(schema, { DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/KAFKA_BROKERS: is required but not set/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(message).toMatch(/LOG_LEVEL:/);
  });
  it('parses broker lists and applies defaults', () => {
    const c = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', DATABASE_URL: 'postgres://x@y/z' });
    expect([c.KAFKA_BROKERS, c.LOG_LEVEL, c.KAFKA_TOPIC_PREFIX]).toEqual([['a:1', 'b:2'], 'info', '']);
  });
});

describe('secretBox', () => {
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(32, 2);
  it('round-trips, and never stores the plain text', () => {
    const sealed = createSecretBox(k1).seal('whsec_abc');
    expect(sealed).not.toContain('whsec_abc');
    expect(createSecretBox(k1).open(sealed)).toBe('whsec_abc');
  });
  it('reads values sealed with the previous key after rotation, writes with the new one', () => {
    const old = createSecretBox(k1).seal('s');
    const rotated = createSecretBox(k2, [k1]);
    expect(rotated.open(old)).toBe('s');
    expect(() => createSecretBox(k1).open(rotated.seal('s'))).toThrow(/unknown key/);
  });
  it('refuses tampered ciphertext and short keys', () => {
    const sealed = createSecretBox(k1).seal('secret');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => createSecretBox(k1).open(parts.join('.'))).toThrow(SecretBoxError);
    expect(() => parseKey(Buffer.alloc(16).toString('base64'))).toThrow(/32 random bytes/);
  });
});

describe('ttlCache', () => {
  it('loads once per key within the TTL, shares concurrent loads, reloads after it', async () => {
    let t = 0;
    let loads = 0;
    const cache = createTtlCache(async (k) => `${k}:${++loads}`, 1_000, () => t);
    expect(await Promise.all([cache.get('a'), cache.get('a')])).toEqual(['a:1', 'a:1']);
    t = 999;
    expect(await cache.get('a')).toBe('a:1');
    t = 1_000;
    expect(await cache.get('a')).toBe('a:2');
  });
  it('does not cache a failed load', async () => {
    let fail = true;
    const cache = createTtlCache(async () => { if (fail) throw new Error('db down'); return 'ok'; }, 60_000);
    await expect(cache.get('a')).rejects.toThrow('db down');
    fail = false;
    expect(await cache.get('a')).toBe('ok');
  });
});
