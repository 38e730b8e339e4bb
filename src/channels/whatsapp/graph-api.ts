import { z } from 'zod';
import type { AppConfig } from '../../config';

export type WhatsAppSettings = NonNullable<AppConfig['whatsapp']>;

const GRAPH_TIMEOUT_MS = 15_000;

/** The error object of a Graph API error answer. */
export interface GraphError {
  code: number;
  message: string;
}

const graphErrorBody = z.object({ error: z.object({ code: z.number(), message: z.string() }) });

export const bearer = (accessToken: string): string => `Bearer ${accessToken}`;

/**
 * Calls `<graphApiBaseUrl>/<path>` with the access token: a GET, or a POST of `json` when
 * given. Rejects when Graph does not answer in time.
 */
export function callGraph(
  settings: WhatsAppSettings,
  path: string,
  json?: unknown,
): Promise<Response> {
  const authorization = bearer(settings.accessToken);
  return fetch(`${settings.graphApiBaseUrl}/${path}`, {
    signal: AbortSignal.timeout(GRAPH_TIMEOUT_MS),
    ...(json === undefined
      ? { headers: { authorization } }
      : {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(json),
        }),
  });
}

/** The error Graph describes in an error answer's body, if the body is one. */
export async function readGraphError(res: Response): Promise<GraphError | undefined> {
  const body: unknown = await res.json().catch(() => undefined);
  const parsed = graphErrorBody.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}
