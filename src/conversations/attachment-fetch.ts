/** Connect's limit for one attachment. */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

export interface FetchedAttachment {
  content?: Buffer;
  contentType?: string;
  /** Why the file cannot be delivered, in words for the agent; set when `content` is not. */
  refusal?: string;
}

/**
 * Downloads a customer's file. A file that cannot be had for good (4xx, over 20 MB) comes back
 * as a refusal; a passing failure (network, 5xx) throws, so the relay retries.
 */
export async function fetchAttachment(url: string): Promise<FetchedAttachment> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (res.status >= 500 || res.status === 429) {
    throw new Error(`fetching the attachment answered HTTP ${res.status}`);
  }
  if (!res.ok) return { refusal: `it could not be fetched (HTTP ${res.status})` };
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ATTACHMENT_BYTES) {
    await res.body?.cancel();
    return { refusal: 'it is larger than 20 MB' };
  }
  const content = Buffer.from(await res.arrayBuffer());
  if (content.length > MAX_ATTACHMENT_BYTES) return { refusal: 'it is larger than 20 MB' };
  if (content.length === 0) return { refusal: 'it is empty' };
  return { content, contentType: res.headers.get('content-type')?.split(';')[0]?.trim() };
}
