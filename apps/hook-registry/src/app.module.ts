import { DynamicModule, Module } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';

@Module({})
export class AppModule {
  static forRoot(env: HookRegistryEnv): DynamicModule {
    return { module: AppModule, imports: coreModules(env, { service: 'hook-registry', schema: 'hook_registry' }) };
  }
}
