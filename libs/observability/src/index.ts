export * from './json-logger';
export * from './nats.health';
export * from './metrics';
export * from './observability.module';
