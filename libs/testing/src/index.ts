export * from './wait-for';
export * from './test-env';
export * from './raw-nats';
export * from './nats-server';
export * from './https-receiver';
export * from './registry-events';
export * from './jetstream';
export * from './smtp-sink';
