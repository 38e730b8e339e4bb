import { X509Certificate } from 'node:crypto';
import { SnsRejection } from './sns-rejection';

export interface SigningCertificateOptions {
  /** The whole fetch, body included. */
  fetchTimeoutMs: number;
  /** SNS's certificates are under 2 KB; anything much larger is not one. */
  maxBytes: number;
  maxEntries: number;
  ttlMs: number;
  now: () => number;
}

interface Entry {
  certificate: Promise<X509Certificate>;
  expiresAt: number;
}

/**
 * Fetches and caches SNS signing certificates by URL. Callers check the URL first: this class
 * fetches whatever it is given. Concurrent requests for one URL share one fetch; a failed fetch
 * is forgotten at once so the next message tries again; the least recently used entry goes
 * when the cache is full.
 */
export class SigningCertificates {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: SigningCertificateOptions) {}

  get(url: string): Promise<X509Certificate> {
    const now = this.options.now();
    const cached = this.entries.get(url);
    this.entries.delete(url);
    if (cached && cached.expiresAt > now) {
      this.entries.set(url, cached);
      return cached.certificate;
    }
    const entry: Entry = {
      certificate: this.fetchCertificate(url),
      expiresAt: now + this.options.ttlMs,
    };
    this.entries.set(url, entry);
    if (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    entry.certificate.catch(() => {
      if (this.entries.get(url) === entry) this.entries.delete(url);
    });
    return entry.certificate;
  }

  private async fetchCertificate(url: string): Promise<X509Certificate> {
    const pem = await this.download(url);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new SnsRejection(
        'certificate-invalid',
        'SigningCertURL did not serve an X.509 certificate',
      );
    }
    if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
      throw new SnsRejection(
        'certificate-invalid',
        'the signing certificate does not hold an RSA key',
      );
    }
    return certificate;
  }

  private async download(url: string): Promise<Buffer> {
    let response: Response;
    try {
      response = await fetch(url, {
        // A redirect could lead to a URL that was never checked against SNS_CERT_URL_PATTERN.
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
      });
    } catch (error) {
      throw unavailable(`fetching it failed (${describe(error)})`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(`it answered ${response.status}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > this.options.maxBytes) break;
        chunks.push(chunk);
      }
    } catch (error) {
      throw unavailable(`reading it failed (${describe(error)})`);
    }
    if (size > this.options.maxBytes) {
      throw new SnsRejection(
        'certificate-invalid',
        `the signing certificate is larger than ${this.options.maxBytes} bytes`,
      );
    }
    return Buffer.concat(chunks);
  }
}

function unavailable(detail: string): SnsRejection {
  return new SnsRejection(
    'certificate-unavailable',
    `the signing certificate is unavailable: ${detail}`,
  );
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}
