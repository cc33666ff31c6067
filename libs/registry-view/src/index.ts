export * from './registry-view';
export * from './follow-registry';
