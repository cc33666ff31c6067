import { HookRegistryEnv } from '@posthooks/config';
import { ErrorBodies } from '@posthooks/contracts';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

const HOOKS_PATH = '/notifications/public/v1/api/hooks';
const SETTINGS_PATH = /^\/v1\/hooks\/[^/]+\/settings\/?$/;

export const hookRegistry: ServiceDefinition<HookRegistryEnv> = {
  name: 'hook-registry',
  env: HookRegistryEnv,
  module: (env) => AppModule.forRoot(env),
  // Unparsable JSON on the Stitch hooks API is an invalid body in its own words; on the
  // settings route, InvalidBody saying why (SPEC §9). Both check their strings themselves.
  malformedJsonBody: (req, what) => {
    if (req.path.startsWith(HOOKS_PATH)) return req.method === 'PUT' ? ErrorBodies.invalidPutBody : ErrorBodies.invalidPostBody;
    if (req.method === 'PUT' && SETTINGS_PATH.test(req.path)) return { data: { message: what }, error: 'InvalidBody' };
    return undefined;
  },
  // The console's proxy streams bodies to the other services unread (console/upstream-proxy.ts).
  rawBodyPaths: /^\/console\/api\/(?!session$)/,
  // The dispatcher's 410 Gone reports; few and quick.
  consumers: () => [{ stream: 'NOTIFY', durable: 'hook-registry', filterSubject: 'hook.gone', concurrency: 4 }],
  openApi: {
    title: 'posthooks hook-registry',
    description:
      'Accounts, plans and API keys (admin token), destinations and post-load hooks (account API key). ' +
      'The hooks API follows the Stitch Connect API path for path, body for body and error for error.',
  },
};
