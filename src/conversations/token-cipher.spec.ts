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
const CONTEXT = 'conversation:0123:credentials';
const TOKEN = 'QVFJREFI-example-connection-token';
const PLAINTEXT = Buffer.from(TOKEN);
/** TOKEN sealed with KEY, IV and CONTEXT by node:crypto; a change of format or key handling breaks it. */
const FIXED_VECTOR = Buffer.from(
  'djI6AAECAwQFBgcICQoLaMZkHylfPLxPs2tB8q1fKRZUkFGXoIRSoCTv6tyZFAiutehanh48CFEIi6hpBmvXbw==',
  'base64',
);
/** TOKEN as the previous version sealed it for `conversation:0123:connectionToken`. */
const V1_CONTEXT = 'conversation:0123:connectionToken';
const V1_VECTOR =
  'v1:AAECAwQFBgcICQoLb1TQcF1zRJAP3qClqxlaZhZUkFGXoIRSoCTv6tyZFAiutehanh48CFEIi6hpBmvXbw';

/** A copy of `sealed` with one bit flipped at `offset` (after `v2:`: IV 3-14, tag 15-30, ciphertext 31-). */
function flipBit(sealed: Buffer, offset: number): Buffer {
  const copy = Buffer.from(sealed);
  copy[offset] ^= 0x01;
  return copy;
}

describe('TokenCipher with a key', () => {
  const cipher = cipherWith(KEY);

  it('opens the fixed vector and seals to it with the same IV', () => {
    expect(cipher.decrypt(FIXED_VECTOR, CONTEXT)).toEqual(PLAINTEXT);
    expect(cipher.seal(PLAINTEXT, CONTEXT, IV)).toEqual(FIXED_VECTOR);
  });

  it('opens what node:crypto seals by the documented format', () => {
    const iv = randomBytes(12);
    const raw = createCipheriv('aes-256-gcm', KEY, iv);
    raw.setAAD(Buffer.from(CONTEXT));
    const plaintext = Buffer.from([0, 1, 2, 0xff, 0x76]);
    const ciphertext = Buffer.concat([raw.update(plaintext), raw.final()]);
    const sealed = Buffer.concat([Buffer.from('v2:'), iv, raw.getAuthTag(), ciphertext]);
    expect(cipher.decrypt(sealed, CONTEXT)).toEqual(plaintext);
  });

  it('uses a fresh IV per value, adds 31 bytes and never stores the plaintext', () => {
    const first = cipher.encrypt(PLAINTEXT, CONTEXT);
    const second = cipher.encrypt(PLAINTEXT, CONTEXT);
    expect(first.subarray(0, 3).toString()).toBe('v2:');
    expect(first).toHaveLength(PLAINTEXT.length + 3 + 12 + 16);
    expect(first).not.toEqual(second);
    expect(first.includes(PLAINTEXT)).toBe(false);
    expect(cipher.decrypt(first, CONTEXT)).toEqual(PLAINTEXT);
    expect(cipher.decrypt(second, CONTEXT)).toEqual(PLAINTEXT);
  });

  it.each([
    ['the IV', 3],
    ['the tag', 20],
    ['the ciphertext', 35],
  ])('throws when %s was tampered with', (_part, offset) => {
    expect(() => cipher.decrypt(flipBit(FIXED_VECTOR, offset), CONTEXT)).toThrow(
      TokenDecryptionError,
    );
  });

  it('throws on a truncated value and an unknown version', () => {
    expect(() => cipher.decrypt(FIXED_VECTOR.subarray(0, 31), CONTEXT)).toThrow(
      TokenDecryptionError,
    );
    const v3 = Buffer.concat([Buffer.from('v3:'), FIXED_VECTOR.subarray(3)]);
    expect(() => cipher.decrypt(v3, CONTEXT)).toThrow(/unknown format version/);
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
    expect(() => cipher.decrypt(FIXED_VECTOR, 'conversation:0124:credentials')).toThrow(
      TokenDecryptionError,
    );
  });

  it('reads a value stored before the key was configured as it is', () => {
    expect(cipher.decrypt(PLAINTEXT, CONTEXT)).toEqual(PLAINTEXT);
  });
});

describe('TokenCipher reading what the previous version stored (v1)', () => {
  const cipher = cipherWith(KEY);

  it('opens a v1 token, and one stored before the key was configured', () => {
    expect(cipher.decryptText(V1_VECTOR, V1_CONTEXT)).toBe(TOKEN);
    expect(cipher.decryptText(TOKEN, V1_CONTEXT)).toBe(TOKEN);
  });

  it('throws on a tampered value, a foreign character, a short value, another context', () => {
    const raw = Buffer.from(V1_VECTOR.slice(3), 'base64url');
    raw[20] ^= 0x01;
    expect(() => cipher.decryptText(`v1:${raw.toString('base64url')}`, V1_CONTEXT)).toThrow(
      TokenDecryptionError,
    );
    expect(() =>
      cipher.decryptText(`${V1_VECTOR.slice(0, 10)}*${V1_VECTOR.slice(10)}`, V1_CONTEXT),
    ).toThrow(/malformed/);
    expect(() => cipher.decryptText('v1:AAEC', V1_CONTEXT)).toThrow(TokenDecryptionError);
    expect(() => cipher.decryptText(V1_VECTOR, CONTEXT)).toThrow(TokenDecryptionError);
    expect(() => cipher.decryptText(`v9:${V1_VECTOR.slice(3)}`, V1_CONTEXT)).toThrow(
      /unknown format version/,
    );
  });
});

describe('TokenCipher without a key', () => {
  const cipher = cipherWith();

  it('stores and returns values as they are', () => {
    expect(cipher.encrypting).toBe(false);
    expect(cipher.encrypt(PLAINTEXT, CONTEXT)).toEqual(PLAINTEXT);
    expect(cipher.decrypt(PLAINTEXT, CONTEXT)).toEqual(PLAINTEXT);
    expect(cipher.decryptText(TOKEN, V1_CONTEXT)).toBe(TOKEN);
  });

  it('refuses to hand out a value that was written encrypted', () => {
    expect(() => cipher.decrypt(FIXED_VECTOR, CONTEXT)).toThrow(/no encryption key/);
    expect(() => cipher.decryptText(V1_VECTOR, V1_CONTEXT)).toThrow(/no encryption key/);
  });

  it('refuses a plaintext value that would read back as sealed', () => {
    expect(() => cipher.encrypt(Buffer.from('v2:abc'), CONTEXT)).toThrow(/version prefix/);
  });
});
