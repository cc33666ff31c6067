import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createDataSourceOptions, PersistenceOptions } from './data-source-options';
import { openDataSource } from './open-data-source';

/**
 * The service's DataSource (injectable everywhere, `TypeOrmModule.forFeature` works in
 * feature modules), created, connected and migrated before the app starts.
 */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...createDataSourceOptions(options),
            // Fail fast: SPEC §1 wants a service that cannot reach Postgres at start to
            // say so and exit. `toRetry` also skips the misleading "Retrying (1)..." log.
            retryAttempts: 0,
            toRetry: () => false,
          }),
          dataSourceFactory: async (dataSourceOptions) => {
            if (!dataSourceOptions) throw new Error('PersistenceModule: no DataSource options');
            return openDataSource(options, dataSourceOptions);
          },
        }),
      ],
    };
  }
}
