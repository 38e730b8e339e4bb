import type { INestApplication } from '@nestjs/common';
import type { RootLogger } from './logging';

/**
 * Closes the application within `timeoutMs`: requests arriving meanwhile get 503 (Nest's
 * `return503OnClosing`), workers finish their jobs, Redis closes last. Resolves the exit code.
 */
export async function shutDown(
  app: INestApplication,
  timeoutMs: number,
  logger: RootLogger,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([
    app.close().then(
      () => 'closed' as const,
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        return 'failed' as const;
      },
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.error({ timeoutMs }, 'shutdown timed out');
  else if (outcome === 'closed') logger.info('shut down cleanly');
  return outcome === 'closed' ? 0 : 1;
}
