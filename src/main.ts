import 'reflect-metadata';
import { AppModule } from './app.module';
import { createApp } from './bootstrap';
import { AppConfig, ConfigError } from './config';
import { createRootLogger } from './logging';
import { shutDown } from './shutdown';

function loadConfig(): AppConfig {
  try {
    return AppConfig.fromEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createRootLogger('info').fatal({ problems: error.problems }, error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createRootLogger(config.logLevel);
  // Process warnings (such as the AWS SDK's notice about Node 20) become log lines like any
  // other, instead of free text on stderr.
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    logger.warn({ warning: warning.name, detail: warning.message }, 'process warning'),
  );
  const app = await createApp(AppModule.forRoot(config, logger), config);
  await app.listen(config.http.port);
  logger.info({ port: config.http.port }, 'listening');

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      void shutDown(app, config.http.shutdownTimeoutMs, logger).then((code) => process.exit(code));
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
