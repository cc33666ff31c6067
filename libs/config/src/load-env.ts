import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IS_OPTIONAL, ValidationError, validateSync } from 'class-validator';
import { redactUrl } from './redact-url';

/** A bad configuration; the message names every bad variable, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the variables `cls` declares (and no others) from `env`. A variable
 * that is unset or empty keeps the class's default: an empty `PORT=` from a compose file
 * must not become port 0 through implicit number conversion.
 */
export function loadEnv<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const plain: Record<string, string> = {};
  for (const name of declaredVars(cls)) {
    const value = env[name];
    if (value !== undefined && value !== '') plain[name] = value;
  }
  const instance = plainToInstance(cls, plain, { enableImplicitConversion: true });
  const errors = validateSync(instance);
  if (errors.length > 0) throw new ConfigError(errors.map((e) => describe(e, plain)));
  return instance;
}

/** Variables of `cls` that have no default, i.e. must be set by the deployment (not those marked `@IsOptional()`). */
export function requiredEnvVars(cls: new () => object): string[] {
  const defaults = new cls() as Record<string, unknown>;
  const optional = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(cls, '', true, false)
      .filter((m) => m.name === IS_OPTIONAL)
      .map((m) => m.propertyName),
  );
  return declaredVars(cls).filter((name) => defaults[name] === undefined && !optional.has(name));
}

/**
 * Every variable of the class: those with a default, and those with only a validation
 * decorator (a field without initializer leaves no trace on an instance).
 */
function declaredVars(cls: new () => object): string[] {
  const validated = getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', true, false)
    .map((m) => m.propertyName);
  return [...new Set([...Object.keys(new cls()), ...validated])];
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY/i;

function describe(error: ValidationError, plain: Record<string, string>): string {
  const name = error.property;
  const messages = [...new Set(Object.values(error.constraints ?? {}))].join('; ');
  const raw = plain[name];
  // Showing the value helps spot a typo, but never for a secret, and never a URL's
  // user or password (NATS puts tokens there).
  const shown = raw === undefined || SECRET_NAME.test(name) ? '' : ` (got "${redactUrl(raw)}")`;
  return `${name}: ${messages}${shown}`;
}
