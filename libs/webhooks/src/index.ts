export * from './hook-url';
export * from './private-address';
export * from './secrets';
export * from './signature';
export * from './retry-schedule';
export * from './refused-ranges';
export * from './secret-box';
export * from './destination-url';
