import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { HookRegistryEnv, secretBoxFromEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';
import { SecretBox } from '@posthooks/webhooks';
import { AccountsController } from './accounts/accounts.controller';
import { AccountsService } from './accounts/accounts.service';
import { AuditRetention } from './audit/audit-retention';
import { AuthService } from './auth/auth.service';
import { CallerGuard } from './auth/guards';
import { KnownApiKeys } from './auth/known-api-keys';
import { ConsoleApiController } from './console/console-api.controller';
import { ConsoleFilesController } from './console/console-files.controller';
import { ChangeRecorder } from './changes/change-recorder';
import { OutboxRelay } from './changes/outbox-relay';
import { RegistryLayoutUpgrade } from './changes/registry-layout-upgrade';
import { RegistryTombstones } from './changes/registry-tombstones';
import { Init1764000000000 } from './database/migrations/1764000000000-init';
import { OutboxSetAside1764001300000 } from './database/migrations/1764001300000-outbox-set-aside';
import { AuditByAge1764001510000 } from './database/migrations/1764001510000-audit-by-age';
import { HookSettings1764002000000 } from './database/migrations/1764002000000-hook-settings';
import { DestinationConnections1764002300000 } from './database/migrations/1764002300000-destination-connections';
import { DestinationsController } from './destinations/destinations.controller';
import { DestinationsService } from './destinations/destinations.service';
import { DestinationCheck } from './destinations/destination-check';
import { DestinationDatabases } from './destinations/destination-databases';
import { HookChanges } from './hooks/hook-changes';
import { HookSecretsReseal } from './hooks/hook-secrets-reseal';
import { HookVerifier } from './hooks/hook-verifier';
import { HookGoneController } from './hooks/hook-gone.controller';
import { HookExtensionsController, StitchHooksController } from './hooks/hooks.controller';
import { HooksService } from './hooks/hooks.service';
import { TrialExpiry } from './trials/trial-expiry.service';

@Module({})
export class AppModule {
  static forRoot(env: HookRegistryEnv): DynamicModule {
    return {
      module: AppModule,
      imports: coreModules(env, { service: 'hook-registry', schema: 'hook_registry', migrations: [Init1764000000000, OutboxSetAside1764001300000, AuditByAge1764001510000, HookSettings1764002000000, DestinationConnections1764002300000] }),
      controllers: [
        AccountsController,
        DestinationsController,
        StitchHooksController,
        HookExtensionsController,
        HookGoneController,
        // The console (SPEC §11): its API (sign-in, the proxy) before its files, so /console/api/* is never a file.
        ConsoleApiController,
        ConsoleFilesController,
      ],
      providers: [
        { provide: HookRegistryEnv, useValue: env },
        // Seals hook signing secrets in Postgres and on REGISTRY (SPEC §12).
        { provide: SecretBox, useValue: secretBoxFromEnv(env) },
        { provide: APP_GUARD, useClass: CallerGuard },
        KnownApiKeys,
        AuthService,
        ChangeRecorder,
        OutboxRelay,
        HookChanges,
        HookSecretsReseal,
        AccountsService,
        DestinationsService,
        DestinationDatabases,
        DestinationCheck,
        HooksService,
        HookVerifier,
        TrialExpiry,
        AuditRetention,
        // Compacted REGISTRY (SPEC §12): the old layout upgraded at start, tombstones aged out.
        RegistryLayoutUpgrade,
        RegistryTombstones,
      ],
    };
  }
}
