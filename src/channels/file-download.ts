import type { FetchedFile } from '../conversations';

/** Connect's limit for one attachment. */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;
const TOO_LARGE = 'it is larger than 20 MB';

/**
 * Downloads a customer's file, with the provider's credentials in `headers` where it needs them.
 * A file that cannot be had for good (4xx, over 20 MB) comes back as a refusal; a passing
 * failure (network, 5xx) throws, so the relay retries. The body is read up to the limit and no
 * further, whatever the server declares.
 */
export async function downloadFile(
  url: string,
  headers: Record<string, string> = {},
): Promise<FetchedFile> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status >= 500 || res.status === 429) {
      throw new Error(`fetching the attachment answered HTTP ${res.status}`);
    }
    return { refusal: `it could not be fetched (HTTP ${res.status})` };
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_ATTACHMENT_BYTES) {
    await res.body?.cancel();
    return { refusal: TOO_LARGE };
  }
  const content = await readAtMost(res, MAX_ATTACHMENT_BYTES);
  if (!content) return { refusal: TOO_LARGE };
  if (content.length === 0) return { refusal: 'it is empty' };
  return { content, contentType: res.headers.get('content-type')?.split(';')[0]?.trim() };
}

/** The body, or undefined once it grows past `limit` bytes. */
async function readAtMost(res: Response, limit: number): Promise<Buffer | undefined> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream.
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
