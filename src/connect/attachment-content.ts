import { ConnectRejectedError, ConnectRetryableError } from './connect-errors';

const OPERATION = 'UploadAttachmentContent';
const UPLOAD_TIMEOUT_MS = 60_000;

/**
 * PUTs the bytes to the pre-signed URL of StartAttachmentUpload with exactly the headers it
 * asked for (they are part of the signature). The URL carries credentials in its query, so it
 * never appears in an error; neither does the response body (S3 echoes the signed request).
 */
export async function putAttachmentContent(
  url: string,
  headers: Record<string, string>,
  content: Buffer,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers,
      body: content,
      signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
    });
  } catch (error) {
    const { name, code } = describe(error);
    throw new ConnectRetryableError(OPERATION, `the upload did not complete (${code ?? name})`, {
      errorType: code ?? name,
    });
  }
  await response.body?.cancel();
  if (response.ok) return;
  const reason = `the upload URL answered ${response.status}`;
  const details = { errorType: `HTTP ${response.status}`, httpStatus: response.status };
  if (response.status >= 400 && response.status < 500) {
    throw new ConnectRejectedError(OPERATION, reason, details);
  }
  throw new ConnectRetryableError(OPERATION, reason, details);
}

/** fetch rejects with `TypeError: fetch failed` and the socket error as its cause. */
function describe(error: unknown): { name: string; code?: string } {
  const name = error instanceof Error ? error.name : 'Error';
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  return { name, code };
}
