export * from './registry-view';
export * from './follow-registry';
export * from './registry-view.module';
export * from './hook-selection';
