export * from './naming';
export * from './connection';
export * from './provisioning';
export * from './publisher';
export * from './context';
export * from './errors';
export * from './transport';
export * from './messaging.module';
export { messagesHandled, handlerSeconds } from './metrics';
