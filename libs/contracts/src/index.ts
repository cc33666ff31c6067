// class-transformer's @Type reads decorator metadata; load the polyfill with the classes.
import 'reflect-metadata';
export * from './subjects';
export * from './event-classes';
export * from './validate-event';
export * from './http-errors';
export * from './timestamp';
export * from './events/load.event';
export * from './events/hook-undeliverable.event';
export * from './events/ingest-records.event';
export * from './events/registry.events';
export * from './lossless-json';
