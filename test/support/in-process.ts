import type { Provider, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module';
import { createApp } from '../../src/bootstrap';
import { AppConfig } from '../../src/config';
import { createRootLogger, type RootLogger } from '../../src/logging';
import { bridgeEnv } from './env';

export interface InProcessBridge {
  app: NestExpressApplication;
  config: AppConfig;
  logger: RootLogger;
  url: string;
}

/**
 * The real application in this process, for suites that add a test controller or worker
 * to it. Listens on a free port.
 */
export async function startInProcess(options: {
  env?: Record<string, string | undefined>;
  controllers?: Type[];
  providers?: Provider[];
}): Promise<InProcessBridge> {
  const config = AppConfig.fromEnv(bridgeEnv(options.env));
  const logger = createRootLogger('silent');
  class TestRootModule {}
  const app = await createApp(
    {
      module: TestRootModule,
      imports: [AppModule.forRoot(config, logger)],
      controllers: options.controllers ?? [],
      providers: options.providers ?? [],
    },
    config,
  );
  await app.listen(0, '127.0.0.1');
  return { app, config, logger, url: await app.getUrl() };
}
