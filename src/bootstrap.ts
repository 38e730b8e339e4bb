import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from './config';
import { configureHttp } from './http';

/** Builds the HTTP application around `root` (the AppModule, or a module that imports it). */
export async function createApp(
  root: DynamicModule,
  config: AppConfig,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(root, {
    bodyParser: false,
    bufferLogs: true,
    return503OnClosing: true,
  });
  app.useLogger(app.get(Logger));
  configureHttp(app, config);
  return app;
}
