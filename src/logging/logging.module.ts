import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggerOptions, type RootLogger } from './logger';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Nest's logger backed by pino. The request log itself is written by the express-level
 * middleware (`createHttpLogger`), so it also sees requests refused by the body parsers;
 * nestjs-pino reuses that request logger (`useExisting`) to tag logs with the request id.
 */
@Module({})
export class LoggingModule {
  static forRoot(logger: RootLogger): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      imports: [LoggerModule.forRoot({ pinoHttp: httpLoggerOptions(logger), useExisting: true })],
      providers: [{ provide: ROOT_LOGGER, useValue: logger }],
      exports: [ROOT_LOGGER],
    };
  }
}
