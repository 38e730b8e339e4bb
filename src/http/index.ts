export { type RawBodyRequest, SNS_WEBHOOK_PATH } from './body-parsing';
export { configureHttp } from './configure-http';
export { equalInConstantTime } from './constant-time';
