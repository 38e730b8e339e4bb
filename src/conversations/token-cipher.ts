import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binary values written by this version. */
const CURRENT_VERSION = 'v2:';
/** base64url text values, written by the previous version one token at a time. */
const TEXT_VERSION = 'v1:';
/** Any `v<n>:` prefix marks a sealed value, including versions this build does not know. */
const SEALED = /^v\d+:/;

/** Raised for a stored value that cannot be opened. Never carries the value itself. */
export class TokenDecryptionError extends Error {
  constructor(reason: string) {
    super(`cannot decrypt a stored token: ${reason}`);
    this.name = 'TokenDecryptionError';
  }
}

/**
 * Seals tokens at rest with AES-256-GCM and a random 12-byte IV per value: `v2:` ‖ iv ‖ tag ‖
 * ciphertext, as bytes. Values of the previous version, `v1:` + base64url(iv ‖ tag ‖
 * ciphertext), are still opened. `context` is bound as additional authenticated data, so a
 * sealed value only opens for the record it was written for (a value copied onto another
 * conversation fails to open).
 *
 * Without TOKEN_ENCRYPTION_KEY values are stored as they are; a sealed value read back in that
 * mode throws instead of being handed out as if it were the token.
 */
@Injectable()
export class TokenCipher {
  private readonly key?: Buffer;

  constructor(config: AppConfig) {
    const key = config.tokenEncryptionKey;
    if (key && key.length !== KEY_BYTES) {
      throw new Error(`the token encryption key must be ${KEY_BYTES} bytes`);
    }
    this.key = key;
  }

  get encrypting(): boolean {
    return this.key !== undefined;
  }

  encrypt(plaintext: Buffer, context: string): Buffer {
    if (!this.key) {
      if (versionOf(plaintext) !== undefined) {
        throw new Error('a value stored in plaintext cannot start with a version prefix (v<n>:)');
      }
      return plaintext;
    }
    return this.seal(plaintext, context, randomBytes(IV_BYTES));
  }

  decrypt(stored: Buffer, context: string): Buffer {
    const version = versionOf(stored);
    if (version === undefined) return stored;
    if (version !== CURRENT_VERSION) throw new TokenDecryptionError('unknown format version');
    return this.open(stored.subarray(CURRENT_VERSION.length), context);
  }

  /** Opens a token stored by the previous version (`v1:`, or the token as it is). */
  decryptText(stored: string, context: string): string {
    if (!SEALED.test(stored)) return stored;
    if (!stored.startsWith(TEXT_VERSION)) throw new TokenDecryptionError('unknown format version');
    const body = stored.slice(TEXT_VERSION.length);
    const raw = Buffer.from(body, 'base64url');
    // Buffer.from skips characters outside the alphabet; insist on the exact encoding.
    if (raw.toString('base64url') !== body) throw new TokenDecryptionError('malformed value');
    return this.open(raw, context).toString('utf8');
  }

  /** @internal The deterministic core of `encrypt`; tests pin the format through it. */
  seal(plaintext: Buffer, context: string, iv: Buffer): Buffer {
    if (!this.key) throw new Error('no encryption key is configured');
    if (iv.length !== IV_BYTES) throw new Error(`the IV must be ${IV_BYTES} bytes`);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from(CURRENT_VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** `raw` is iv ‖ tag ‖ ciphertext. */
  private open(raw: Buffer, context: string): Buffer {
    if (!this.key) {
      throw new TokenDecryptionError('the value is encrypted and no encryption key is configured');
    }
    if (raw.length <= IV_BYTES + TAG_BYTES) throw new TokenDecryptionError('malformed value');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const ciphertext = raw.subarray(IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new TokenDecryptionError(
        'authentication failed (tampered value, wrong key or context)',
      );
    }
  }
}

/** The `v<n>:` prefix of a stored value, if it has one. */
function versionOf(stored: Buffer): string | undefined {
  return SEALED.exec(stored.subarray(0, 12).toString('latin1'))?.[0];
}
