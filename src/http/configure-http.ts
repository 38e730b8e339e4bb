import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '../config';
import { createHttpLogger, ROOT_LOGGER, type RootLogger } from '../logging';
import { Metrics } from '../ops';
import { bodyErrorHandler, bodyParsers } from './body-parsing';

/**
 * Express-level middleware, in order: metrics and the request log first so that they also
 * see requests the body parsers refuse, then the parsers. Call before `init`/`listen`.
 */
export function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.use(app.get(Metrics).httpMiddleware);
  app.use(createHttpLogger(app.get<RootLogger>(ROOT_LOGGER)));
  for (const { path, handler } of bodyParsers(config.http.maxBodyBytes)) app.use(path, handler);
  app.use(bodyErrorHandler);
  app.disable('x-powered-by');
  app.set('trust proxy', true);
}
