import { ConfigError, DispatcherEnv, listenHost, EmailNotifierEnv, ENV_CLASSES, HookRegistryEnv, IngestGatewayEnv, loadEnv, requiredEnvVars, ServiceEnv } from './index';

const SECRETS_KEY = Buffer.alloc(32, 5).toString('base64');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadEnv', () => {
  it('applies the defaults when nothing is set', () => {
    const env = loadEnv(DispatcherEnv, {});
    expect(env).toBeInstanceOf(DispatcherEnv);
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      LOG_LEVEL: 'log',
      PORT: 3004,
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_NAMESPACE: '',
      NATS_STREAM_REPLICAS: 1,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/posthooks',
      SHUTDOWN_TIMEOUT_MS: 10000,
      DELIVERY_TIMEOUT_MS: 30000,
      DELIVERY_RETRY_SCHEDULE: '5s,5m,30m,2h,5h',
      ALLOW_PRIVATE_TARGETS: false,
    });
    expect(loadEnv(IngestGatewayEnv, {}).MAX_BODY_BYTES).toBe(4194304);
    expect(loadEnv(EmailNotifierEnv, {})).toMatchObject({ SMTP_URL: 'smtp://127.0.0.1:1025', EMAIL_FROM: 'posthooks <no-reply@posthooks.local>' });
  });

  it.each([
    ['ingest-gateway', 3001],
    ['hook-registry', 3002],
    ['load-simulator', 3003],
    ['dispatcher', 3004],
    ['email-notifier', 3005],
  ] as const)('gives %s its default port %i', (app, port) => {
    expect(loadEnv<ServiceEnv>(ENV_CLASSES[app], {}).PORT).toBe(port);
  });

  it('converts numbers and reads only the declared variables', () => {
    const env = loadEnv(IngestGatewayEnv, { PORT: '8080', NATS_STREAM_REPLICAS: '3', MAX_BODY_BYTES: '1024', UNRELATED: 'x', PATH: '/bin' });
    expect(env).toMatchObject({ PORT: 8080, NATS_STREAM_REPLICAS: 3, MAX_BODY_BYTES: 1024 });
    expect(env).not.toHaveProperty('UNRELATED');
    expect(env).not.toHaveProperty('PATH');
  });

  it('reads the dead-letter horizon and the message retry delays, 20 min and 1 s to 1 min by default', () => {
    expect(loadEnv(ServiceEnv, { PORT: '1' })).toMatchObject({ DEADLETTER_AFTER_MS: 1_200_000, MESSAGE_RETRY_BASE_MS: 1000, MESSAGE_RETRY_MAX_MS: 60_000 });
    expect(loadEnv(ServiceEnv, { PORT: '1', DEADLETTER_AFTER_MS: '30000', MESSAGE_RETRY_BASE_MS: '200', MESSAGE_RETRY_MAX_MS: '2000' })).toMatchObject({ DEADLETTER_AFTER_MS: 30000, MESSAGE_RETRY_BASE_MS: 200, MESSAGE_RETRY_MAX_MS: 2000 });
    const message = configError(() => loadEnv(ServiceEnv, { PORT: '1', DEADLETTER_AFTER_MS: '10', MESSAGE_RETRY_BASE_MS: '0', MESSAGE_RETRY_MAX_MS: '2h' })).message;
    expect(message).toContain('DEADLETTER_AFTER_MS: must be an integer of at least 1000');
    expect(message).toContain('MESSAGE_RETRY_BASE_MS: must be an integer from 1 to 3600000');
    expect(message).toContain('MESSAGE_RETRY_MAX_MS: must be an integer from 1 to 3600000');
  });

  it('keeps the default for an empty variable instead of converting it to 0', () => {
    expect(loadEnv(DispatcherEnv, { PORT: '' }).PORT).toBe(3004);
  });

  it('names every bad variable on its own line', () => {
    const err = configError(() => loadEnv(DispatcherEnv, { PORT: '70000', DATABASE_URL: 'mysql://db/x', NATS_STREAM_REPLICAS: 'three' }));
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}PORT: must be an integer from 0 to 65535/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}DATABASE_URL: must be a postgres:\/\/ URL/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}NATS_STREAM_REPLICAS: must be an integer from 1 to 5/));
    expect(lines).toHaveLength(4);
  });

  it.each([
    ['nats://a:4222,tls://b:4222', true],
    ['nats://a:4222, nats://b:4222', true],
    ['http://a:4222', false],
    ['nats://a:4222,', false],
  ])('validates NATS_URL %s', (url, ok) => {
    const load = () => loadEnv(ServiceEnv, { PORT: '1', NATS_URL: url });
    if (ok) expect(load().NATS_URL).toBe(url);
    else expect(configError(load).message).toContain('NATS_URL: must be a nats:// or tls:// URL');
  });

  it('accepts postgresql:// and rejects a bad NATS_NAMESPACE and NODE_ENV', () => {
    expect(loadEnv(DispatcherEnv, { DATABASE_URL: 'postgresql://u@h/db' }).DATABASE_URL).toBe('postgresql://u@h/db');
    const message = configError(() => loadEnv(DispatcherEnv, { NATS_NAMESPACE: 'Bad-Name', NODE_ENV: 'prod' })).message;
    expect(message).toContain('NATS_NAMESPACE: may only contain a-z, 0-9 and _');
    expect(message).toContain('NODE_ENV: must be one of development, production, test');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads the boolean %s as %s', (raw, expected) => {
    expect(loadEnv(DispatcherEnv, { ALLOW_PRIVATE_TARGETS: raw }).ALLOW_PRIVATE_TARGETS).toBe(expected);
  });

  it('rejects a boolean that is not true/false/1/0', () => {
    expect(configError(() => loadEnv(DispatcherEnv, { ALLOW_PRIVATE_TARGETS: 'yes' })).message).toContain(
      'ALLOW_PRIVATE_TARGETS: must be true, false, 1 or 0',
    );
  });

  it('validates the retry schedule as a list of durations', () => {
    expect(loadEnv(DispatcherEnv, { DELIVERY_RETRY_SCHEDULE: '250ms,1s' }).DELIVERY_RETRY_SCHEDULE).toBe('250ms,1s');
    expect(configError(() => loadEnv(DispatcherEnv, { DELIVERY_RETRY_SCHEDULE: '5s,5 minutes' })).message).toContain('DELIVERY_RETRY_SCHEDULE:');
  });

  it('requires a 32-character ADMIN_TOKEN unless in development, where it may be unset', () => {
    expect(loadEnv(HookRegistryEnv, {}).ADMIN_TOKEN).toBeUndefined();
    expect(configError(() => loadEnv(HookRegistryEnv, { ADMIN_TOKEN: 'short' })).message).toContain('ADMIN_TOKEN:');
    expect(configError(() => loadEnv(HookRegistryEnv, { NODE_ENV: 'test' })).message).toContain('ADMIN_TOKEN: is required unless NODE_ENV=development');
    expect(configError(() => loadEnv(HookRegistryEnv, { NODE_ENV: 'production' })).message).toContain('ADMIN_TOKEN: is required unless NODE_ENV=development');
    expect(configError(() => loadEnv(HookRegistryEnv, { NODE_ENV: 'production', ADMIN_TOKEN: 'short' })).message).toContain('ADMIN_TOKEN:');
    const token = 'k3J9vQ2mX8pL5wR1tY7uZ4nB6cD0eF2g';
    expect(loadEnv(HookRegistryEnv, { NODE_ENV: 'production', ADMIN_TOKEN: token, SECRETS_KEY }).ADMIN_TOKEN).toBe(token);
  });

  it.each([
    ['Test scenario: the registry in production without SECRETS_KEY refuses to start', HookRegistryEnv, { NODE_ENV: 'production' }, 'SECRETS_KEY: is required unless NODE_ENV=development'],
    ['Test scenario: the dispatcher in test without SECRETS_KEY refuses to start', DispatcherEnv, { NODE_ENV: 'test' }, 'SECRETS_KEY: is required unless NODE_ENV=development'],
    ['Test scenario: a key of 16 bytes is refused, its value not shown', DispatcherEnv, { SECRETS_KEY: 'c2hvcnQta2V5LTE2Ynl0ZQ==' }, 'SECRETS_KEY: is required unless NODE_ENV=development, and must be 32 bytes'],
    ['Test scenario: a bad previous key is refused', DispatcherEnv, { SECRETS_KEY, SECRETS_KEY_PREVIOUS: `${SECRETS_KEY},nope` }, 'SECRETS_KEY_PREVIOUS: must be a comma-separated list of keys'],
    ['Test scenario: the gateway does not read SECRETS_KEY at all', IngestGatewayEnv, { NODE_ENV: 'production', SECRETS_KEY }, null],
  ] as const)('%s', (_, cls, env, problem) => {
    if (problem === null) {
      expect(loadEnv(cls as typeof IngestGatewayEnv, env)).not.toHaveProperty('SECRETS_KEY');
      return;
    }
    const message = configError(() => loadEnv(cls as typeof DispatcherEnv, env)).message;
    expect(message).toContain(problem);
    expect(message).not.toContain('c2hvcnQta2V5LTE2Ynl0ZQ');
  });

  it('takes SECRETS_KEY and SECRETS_KEY_PREVIOUS where they are used', () => {
    const previous = Buffer.alloc(32, 4).toString('hex');
    expect(loadEnv(DispatcherEnv, { NODE_ENV: 'production', SECRETS_KEY, SECRETS_KEY_PREVIOUS: previous })).toMatchObject({ SECRETS_KEY, SECRETS_KEY_PREVIOUS: previous });
  });

  it('never shows a secret value or URL credentials in the error', () => {
    const message = configError(() =>
      loadEnv(HookRegistryEnv, {
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'hunter2-too-short',
        DATABASE_URL: 'mysql://admin:s3cr3t-pw@db/x',
        NATS_URL: 'http://natstoken@nats:4222',
        PORT: 'abc',
      }),
    ).message;
    expect(message).toContain('ADMIN_TOKEN:');
    expect(message).toContain('DATABASE_URL:');
    expect(message).toContain('NATS_URL:');
    expect(message).toContain('PORT: must be an integer from 0 to 65535 (got "abc")');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('s3cr3t-pw');
    expect(message).not.toContain('natstoken');
  });
});

describe('requiredEnvVars', () => {
  it('lists the variables without a default', () => {
    expect(requiredEnvVars(ServiceEnv)).toEqual(['PORT']);
    expect(requiredEnvVars(HookRegistryEnv)).toEqual(['ADMIN_TOKEN', 'SECRETS_KEY']);
    expect(requiredEnvVars(DispatcherEnv)).toEqual(['SECRETS_KEY']);
  });
});

describe('HOST and listenHost', () => {
  it.each([
    ['Test scenario: development without HOST listens on loopback only (npm start)', { NODE_ENV: 'development' }, '127.0.0.1'],
    ['Test scenario: nothing set is development: loopback', {}, '127.0.0.1'],
    ['Test scenario: production without HOST listens on every interface (pods, containers)', { NODE_ENV: 'production' }, undefined],
    ['Test scenario: test without HOST listens on every interface', { NODE_ENV: 'test' }, undefined],
    ['Test scenario: HOST wins in development', { NODE_ENV: 'development', HOST: '0.0.0.0' }, '0.0.0.0'],
    ['Test scenario: HOST wins in production', { NODE_ENV: 'production', HOST: '::' }, '::'],
  ] as const)('%s', (_, env, expected) => {
    expect(listenHost(loadEnv(DispatcherEnv, { ...env, SECRETS_KEY }))).toBe(expected);
  });

  it('rejects a HOST that is not an IP address, named', () => {
    expect(configError(() => loadEnv(DispatcherEnv, { HOST: 'every-interface' })).message).toContain('HOST: must be an IP address to listen on');
  });
});
