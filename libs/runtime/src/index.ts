export * from './run-service';
export * from './core-modules';
export * from './contract-exception.filter';
export * from './validation';
export * from './json-body';
export * from './openapi';
export * from './route-id';
export * from './periodic-task';
export { handleProcessFailures, unhandledRejections } from './process-failures';
