import { ConfigError, HookRegistryEnv, loadEnv, LoadSimulatorEnv } from './index';
import { productionAdminTokenProblem, PUBLISHED_ADMIN_TOKENS } from './admin-token';

const GOOD = 'k3J9vQ2mX8pL5wR1tY7uZ4nB6cD0eF2g'; // 32 characters, 31 distinct

describe('productionAdminTokenProblem', () => {
  it.each([
    ['Test scenario: a random base64 token of 44 characters is accepted', 'V7n1r2Qk9yXb3Lm8Zp0Tq4Wc6Hs5Jd2Fg7Ke1Ua9Nv0=', null],
    ['Test scenario: 32 characters, 31 distinct, is accepted', GOOD, null],
    ['Test scenario: exactly 16 distinct characters is enough', '0123456789abcdef0123456789abcdef', null],
    ['Test scenario: 31 characters is too short', GOOD.slice(1), 'shorter than 32 characters'],
    ['Test scenario: an empty token is too short', '', 'shorter than 32 characters'],
    ['Test scenario: one character repeated is refused', 'x'.repeat(64), 'fewer than 16 distinct characters'],
    ['Test scenario: 15 distinct characters over 45 is refused', '0123456789abcde'.repeat(3), 'fewer than 16 distinct characters'],
    ['Test scenario: a repeated word is refused', 'changeme'.repeat(8), 'fewer than 16 distinct characters'],
    ...PUBLISHED_ADMIN_TOKENS.map((token) => [`Test scenario: the published token ${token} is refused`, token, expect.stringMatching(/^(a token published in the posthooks repository|fewer than 16 distinct characters)$/)]),
  ])('%s', (_, token, problem) => {
    expect(productionAdminTokenProblem(token as string)).toEqual(problem);
  });
});

describe('ADMIN_TOKEN in each environment', () => {
  const load = (cls: typeof HookRegistryEnv | typeof LoadSimulatorEnv, env: NodeJS.ProcessEnv) => {
    try {
      return loadEnv<{ ADMIN_TOKEN?: string }>(cls, { SECRETS_KEY: Buffer.alloc(32, 5).toString('base64'), ...env }).ADMIN_TOKEN;
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  };
  const DEV_TOKEN = 'posthooks-dev-admin-token-change-me';

  it.each([
    ['the registry in development keeps the dev token of npm start', HookRegistryEnv, 'development', DEV_TOKEN, DEV_TOKEN],
    ['the registry in test keeps the test token', HookRegistryEnv, 'test', 'test-admin-token-0123456789abcdef', 'test-admin-token-0123456789abcdef'],
    ['the registry in production refuses the dev token', HookRegistryEnv, 'production', DEV_TOKEN, 'ADMIN_TOKEN: with NODE_ENV=production must have at least 32 characters, 16 of them distinct'],
    ['the registry in production refuses 32 times the same character', HookRegistryEnv, 'production', 'x'.repeat(32), 'ADMIN_TOKEN: with NODE_ENV=production'],
    ['the registry in production takes a good token', HookRegistryEnv, 'production', GOOD, GOOD],
    ['the simulator in production refuses the dev token', LoadSimulatorEnv, 'production', DEV_TOKEN, 'ADMIN_TOKEN: with NODE_ENV=production'],
    ['the simulator in production may still go without one', LoadSimulatorEnv, 'production', undefined, undefined],
    ['the simulator in production takes a good token', LoadSimulatorEnv, 'production', GOOD, GOOD],
  ] as const)('Test scenario: %s', (_, cls, nodeEnv, token, expected) => {
    const result = load(cls, { NODE_ENV: nodeEnv, ADMIN_TOKEN: token });
    if (typeof expected === 'string' && expected.startsWith('ADMIN_TOKEN:')) expect(result).toContain(expected);
    else expect(result).toBe(expected);
  });

  it('Test scenario: the refusal never shows the token', () => {
    const message = load(HookRegistryEnv, { NODE_ENV: 'production', ADMIN_TOKEN: DEV_TOKEN });
    expect(message).toContain('ADMIN_TOKEN:');
    expect(message).not.toContain(DEV_TOKEN);
  });
});
