export { assertSchemaName, createDataSourceOptions } from './data-source-options';
export type { PersistenceOptions } from './data-source-options';
export { ensureDatabase } from './ensure-database';
export { openDataSource } from './open-data-source';
export { PersistenceModule } from './persistence.module';
export { runMigrations } from './run-migrations';
export { DELETE_BATCH, deleteInBatches } from './batched-delete';
export type { BatchedDeleteOptions } from './batched-delete';
export { StatementBatcher } from './statement-batcher';
