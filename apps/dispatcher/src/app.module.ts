import { DynamicModule, Module } from '@nestjs/common';
import { DispatcherEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';
import { LoadsController } from './loads/loads.controller';

@Module({})
export class AppModule {
  static forRoot(env: DispatcherEnv): DynamicModule {
    return { module: AppModule, imports: coreModules(env, { service: 'dispatcher', schema: 'dispatcher' }), controllers: [LoadsController] };
  }
}
