export { createHttpLogger, createRootLogger, type RootLogger } from './logger';
export { LoggingModule, ROOT_LOGGER } from './logging.module';
export { maskPhone, maskPhonesInText } from './redaction';
