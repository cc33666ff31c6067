export { ConfigError, loadEnv, requiredEnvVars } from './load-env';
export { listenHost, LOG_LEVELS, NODE_ENVS, ServiceEnv } from './service-env';
export { DispatcherEnv, EmailNotifierEnv, ENV_CLASSES, HookRegistryEnv, IngestGatewayEnv, LoadSimulatorEnv } from './app-envs';
export type { AppName } from './app-envs';
export { EnvBoolean, IsDurationList, IsUrlList, parseDuration, parseDurationList } from './env-decorators';
export { redactUrl } from './redact-url';
export { IsProductionAdminToken, PRODUCTION_ADMIN_TOKEN_RULE, productionAdminTokenProblem, PUBLISHED_ADMIN_TOKENS } from './admin-token';
export { decideSmtpTls, IsSmtpUrlWithTls, SMTP_TLS_RULE } from './smtp-tls';
export type { SmtpTls, SmtpTlsDecision } from './smtp-tls';
