import { parseSecretsKey, SecretBox, SECRETS_KEY_RULE } from '@posthooks/webhooks';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { ConfigError } from './load-env';

export { SECRETS_KEY_RULE };

/** A SECRETS_KEY: 32 bytes as hex or base64. */
export function IsSecretsKey(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isSecretsKey', validator: { validate: (value: unknown) => typeof value === 'string' && parseSecretsKey(value) !== undefined } },
    { message: SECRETS_KEY_RULE, ...validationOptions },
  );
}

/** SECRETS_KEY_PREVIOUS: a comma-separated list of such keys (only for opening, during a rotation). */
export function IsSecretsKeyList(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSecretsKeyList',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value
            .split(',')
            .filter((t) => t.trim() !== '')
            .every((t) => parseSecretsKey(t) !== undefined),
      },
    },
    { message: `must be a comma-separated list of keys, each of which ${SECRETS_KEY_RULE}`, ...validationOptions },
  );
}

/**
 * The SecretBox of a service that seals or opens secrets. Env validation lets SECRETS_KEY
 * be unset in development (so the other services and plain `loadEnv` keep their defaults);
 * a service that needs it refuses to start here all the same, and says where one comes from.
 */
export function secretBoxFromEnv(env: { SECRETS_KEY?: string; SECRETS_KEY_PREVIOUS?: string }): SecretBox {
  if (!env.SECRETS_KEY) {
    throw new ConfigError(['SECRETS_KEY: is required to seal and open secrets (hook signing secrets, destination passwords); `npm start` creates one in the git-ignored .secrets-key, elsewhere set it (openssl rand -base64 32)']);
  }
  return new SecretBox(env.SECRETS_KEY, env.SECRETS_KEY_PREVIOUS);
}
