import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * Admin tokens written somewhere in this repository (README walk-through, `npm start`,
 * the k8s dev overlay, an old compose default, tests, bench). They are public, so a
 * production deployment must never run with one of them. e2e/deploy.e2e-spec.ts looks
 * for admin tokens in the repository's files and fails when one is missing here.
 */
export const PUBLISHED_ADMIN_TOKENS: readonly string[] = [
  'posthooks-dev-admin-token-change-me',
  'posthooks-compose-admin-token-change-me',
  'test-admin-token-0123456789abcdef',
  'bench-admin-token-0123456789abcdefgh',
  'admin-token-0123456789abcdef-0123456789',
];

export const ADMIN_TOKEN_MIN_LENGTH = 32;
export const ADMIN_TOKEN_MIN_DISTINCT = 16;

/**
 * Why `token` may not guard a production admin API, or null when it may. Length alone
 * lets `aaaa...` through; distinct characters keep out such fillers and repeated words.
 * Not a measure of randomness: `openssl rand -base64 33` passes with room to spare.
 */
export function productionAdminTokenProblem(token: string): string | null {
  if (token.length < ADMIN_TOKEN_MIN_LENGTH) return `shorter than ${ADMIN_TOKEN_MIN_LENGTH} characters`;
  if (new Set(token).size < ADMIN_TOKEN_MIN_DISTINCT) return `fewer than ${ADMIN_TOKEN_MIN_DISTINCT} distinct characters`;
  if (PUBLISHED_ADMIN_TOKENS.includes(token)) return 'a token published in the posthooks repository';
  return null;
}

export const PRODUCTION_ADMIN_TOKEN_RULE = `with NODE_ENV=production must have at least ${ADMIN_TOKEN_MIN_LENGTH} characters, ${ADMIN_TOKEN_MIN_DISTINCT} of them distinct, and not be a token written in the posthooks repository (generate one: openssl rand -base64 33)`;

/** With NODE_ENV=production, an ADMIN_TOKEN that is set passes `productionAdminTokenProblem`. */
export function IsProductionAdminToken(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isProductionAdminToken',
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          const nodeEnv = (args?.object as { NODE_ENV?: string } | undefined)?.NODE_ENV;
          if (nodeEnv !== 'production' || value === undefined) return true;
          return typeof value === 'string' && productionAdminTokenProblem(value) === null;
        },
      },
    },
    { message: PRODUCTION_ADMIN_TOKEN_RULE, ...validationOptions },
  );
}
