import { createCipheriv, randomBytes } from 'node:crypto';
import { AppConfig } from '../config';
import { TokenCipher, TokenDecryptionError } from './token-cipher';

const env = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};
const cipherWith = (key?: Buffer) =>
  new TokenCipher(
    AppConfig.fromEnv(key ? { ...env, TOKEN_ENCRYPTION_KEY: key.toString('base64') } : env),
  );

/** Bytes 0..31, and the first 12 of them as the IV. */
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const IV = KEY.subarray(0, 12);
const CONTEXT = 'conversation:0123:connectionToken';
const TOKEN = 'QVFJREFI-example-connection-token';
/** Written once by this build; a change of format or key handling breaks it. */
const FIXED_VECTOR =
  'v1:AAECAwQFBgcICQoLb1TQcF1zRJAP3qClqxlaZhZUkFGXoIRSoCTv6tyZFAiutehanh48CFEIi6hpBmvXbw';

/** Flips one bit of the sealed bytes at `offset` (IV 0-11, tag 12-27, ciphertext 28-). */
function flipBit(sealed: string, offset: number): string {
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  raw[offset] ^= 0x01;
  return `v1:${raw.toString('base64url')}`;
}

describe('TokenCipher with a key', () => {
  const cipher = cipherWith(KEY);

  it('opens the fixed vector and seals to it with the same IV', () => {
    expect(cipher.decrypt(FIXED_VECTOR, CONTEXT)).toBe(TOKEN);
    expect(cipher.seal(TOKEN, CONTEXT, IV)).toBe(FIXED_VECTOR);
  });

  it('opens what node:crypto seals by the documented format', () => {
    const iv = randomBytes(12);
    const raw = createCipheriv('aes-256-gcm', KEY, iv);
    raw.setAAD(Buffer.from(CONTEXT));
    const ciphertext = Buffer.concat([raw.update('tok-ü-€', 'utf8'), raw.final()]);
    const sealed = `v1:${Buffer.concat([iv, raw.getAuthTag(), ciphertext]).toString('base64url')}`;
    expect(cipher.decrypt(sealed, CONTEXT)).toBe('tok-ü-€');
  });

  it('uses a fresh IV per value and never stores the token', () => {
    const first = cipher.encrypt(TOKEN, CONTEXT);
    const second = cipher.encrypt(TOKEN, CONTEXT);
    expect(first).toMatch(/^v1:[A-Za-z0-9_-]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain(TOKEN);
    expect(cipher.decrypt(first, CONTEXT)).toBe(TOKEN);
    expect(cipher.decrypt(second, CONTEXT)).toBe(TOKEN);
  });

  it.each([
    ['the IV', 0],
    ['the tag', 20],
    ['the ciphertext', 30],
  ])('throws when %s was tampered with', (_part, offset) => {
    const tampered = flipBit(FIXED_VECTOR, offset);
    expect(() => cipher.decrypt(tampered, CONTEXT)).toThrow(TokenDecryptionError);
  });

  it('throws on a truncated tag, a foreign character, an unknown version', () => {
    const raw = Buffer.from(FIXED_VECTOR.slice(3), 'base64url');
    const shortTag = `v1:${Buffer.concat([raw.subarray(0, 24), raw.subarray(28)]).toString('base64url')}`;
    expect(() => cipher.decrypt(shortTag, CONTEXT)).toThrow(TokenDecryptionError);
    expect(() => cipher.decrypt(`${FIXED_VECTOR.slice(0, 10)}*${FIXED_VECTOR.slice(10)}`)).toThrow(
      TokenDecryptionError,
    );
    expect(() => cipher.decrypt('v1:AAEC', CONTEXT)).toThrow(TokenDecryptionError);
    expect(() => cipher.decrypt(`v2:${FIXED_VECTOR.slice(3)}`, CONTEXT)).toThrow(
      /unknown format version/,
    );
  });

  it('throws with the wrong key or for another context, and names neither token nor key', () => {
    const other = cipherWith(randomBytes(32));
    const failure = (() => {
      try {
        other.decrypt(FIXED_VECTOR, CONTEXT);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure).toBeInstanceOf(TokenDecryptionError);
    expect(failure?.message).not.toContain(TOKEN);
    expect(failure?.message).not.toContain(KEY.toString('base64'));
    expect(() => cipher.decrypt(FIXED_VECTOR, 'conversation:0123:participantToken')).toThrow(
      TokenDecryptionError,
    );
  });

  it('reads a value stored before the key was configured as it is', () => {
    expect(cipher.decrypt(TOKEN, CONTEXT)).toBe(TOKEN);
  });
});

describe('TokenCipher without a key', () => {
  const cipher = cipherWith();

  it('stores and returns values as they are', () => {
    expect(cipher.encrypting).toBe(false);
    expect(cipher.encrypt(TOKEN, CONTEXT)).toBe(TOKEN);
    expect(cipher.decrypt(TOKEN, CONTEXT)).toBe(TOKEN);
  });

  it('refuses to hand out a value that was written encrypted', () => {
    expect(() => cipher.decrypt(FIXED_VECTOR, CONTEXT)).toThrow(/no encryption key/);
  });

  it('refuses a plaintext token that would read back as sealed', () => {
    expect(() => cipher.encrypt('v1:abc')).toThrow(/version prefix/);
  });
});
