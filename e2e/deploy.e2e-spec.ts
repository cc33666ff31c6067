import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// `yaml` (1.x) is not a direct dependency: it is installed for @nx/js (through
// cosmiconfig) and hoisted to node_modules/yaml. Only this test uses it.
import { parseAllDocuments } from 'yaml';
import { ENV_CLASSES, loadEnv, requiredEnvVars, ServiceEnv } from '@posthooks/config';
import type { AppName } from '@posthooks/config';

/**
 * Issue 7 (deployment): every kustomize overlay renders into objects a cluster accepts
 * and that run the services the way they need to run; the Dockerfile runs what
 * `npm run build` produces as a non-root user. Needs kubectl (for `kubectl kustomize`,
 * offline) and a build (`npm test` builds first). No cluster and no Docker engine: the
 * objects are checked here, not applied, and the images are not built.
 */

const ROOT = join(__dirname, '..');
const APPS = Object.keys(ENV_CLASSES) as AppName[];
const OVERLAYS = ['dev', 'production'] as const;
/** The safety exit of libs/runtime (run-service.ts): a hung drain ends this long after SHUTDOWN_TIMEOUT_MS. */
const SHUTDOWN_SAFETY_MS = 5000;
/** Secrets an overlay references but does not render: the operator creates them (the Deploy docs show how). */
const EXTERNAL_SECRETS: Record<(typeof OVERLAYS)[number], string[]> = { dev: [], production: ['posthooks-secrets'] };

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; fieldRef?: { fieldPath: string } };
}
interface EnvFrom {
  prefix?: string;
  configMapRef?: { name: string };
  secretRef?: { name: string };
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
  exec?: { command: string[] };
  tcpSocket?: { port: number | string };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
}
interface Container {
  name: string;
  image?: string;
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: SecurityContext;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
}
interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    jobTemplate?: { spec: { template: { spec: PodSpec } } };
    volumeClaimTemplates?: unknown[];
    scaleTargetRef?: { kind: string; name: string };
    rules?: { host?: string; http?: { paths: { backend: { service?: { name: string; port: { name?: string; number?: number } } } }[] } }[];
  };
}
interface PodTemplate {
  owner: K8sObject;
  spec: PodSpec;
}

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function render(overlay: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', join(ROOT, 'k8s', 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJSON() as unknown as K8sObject;
  });
}

function podTemplates(objects: K8sObject[]): PodTemplate[] {
  const templates: PodTemplate[] = [];
  for (const owner of objects) {
    const template = owner.spec?.template ?? owner.spec?.jobTemplate?.spec.template;
    if (template?.spec?.containers) templates.push({ owner, spec: template.spec });
  }
  return templates;
}

const allContainers = (spec: PodSpec): Container[] => [...(spec.initContainers ?? []), ...spec.containers];
const where = (t: PodTemplate, c: Container): string => `${t.owner.kind}/${t.owner.metadata?.name} container ${c.name}`;

/** The tag of an image reference, or undefined (`repo@sha256:…` counts as pinned). */
function imageTag(image: string): string | undefined {
  if (image.includes('@sha256:')) return 'digest';
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
}

/** A Kubernetes resource quantity: 250m, 1, 0.5, 512Mi, 1G. */
const isQuantity = (q: string | number | undefined): boolean => (typeof q === 'number' ? q > 0 : typeof q === 'string' && /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.test(q));

const decode = (secret: K8sObject, key: string): string | undefined => secret.stringData?.[key] ?? (secret.data?.[key] !== undefined ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined);

/** Keys the Deploy docs put into an operator-created Secret (`kubectl create secret generic <name> --from-literal=KEY=…`). */
function documentedSecretKeys(name: string): Set<string> {
  const section = join(ROOT, 'docker', 'DEPLOY-README-SECTION.md');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const docs = existsSync(section) ? readFileSync(section, 'utf8') : readme.slice(Math.max(0, readme.indexOf('## Deploy')));
  const keys = new Set<string>();
  const command = new RegExp(`kubectl[^\\n]*create secret generic ${name}((?:[^\\n]*\\\\\\n)*[^\\n]*)`, 'g');
  for (const match of docs.matchAll(command)) {
    for (const key of match[1].matchAll(/--from-(?:literal|file)=([A-Z_]+)=/g)) keys.add(key[1]);
  }
  return keys;
}

/**
 * The environment a container gets, as far as the render tells: a value, or
 * `external` for a key of a Secret the operator creates, or undefined when not provided.
 */
function containerEnv(container: Container, objects: K8sObject[], external: string[]): Map<string, string | { external: string }> {
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const env = new Map<string, string | { external: string }>();
  const fromSource = (kind: 'ConfigMap' | 'Secret', name: string, key: string | undefined, optional: boolean | undefined): Map<string, string | { external: string }> => {
    const found = new Map<string, string | { external: string }>();
    const object = find(kind, name);
    if (object) {
      const keys = key ? [key] : [...Object.keys(object.data ?? {}), ...Object.keys(object.stringData ?? {})];
      for (const k of keys) {
        const value = kind === 'Secret' ? decode(object, k) : object.data?.[k];
        if (value !== undefined) found.set(k, value);
      }
    } else if (kind === 'Secret' && external.includes(name)) {
      for (const k of key ? [key] : [...documentedSecretKeys(name)]) found.set(k, { external: name });
    } else if (!optional) {
      throw new Error(`${container.name} refers to ${kind} ${name}, which is neither rendered nor created by the operator`);
    }
    return found;
  };
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (!ref) continue;
    for (const [k, v] of fromSource(source.configMapRef ? 'ConfigMap' : 'Secret', ref.name, undefined, false)) env.set(`${source.prefix ?? ''}${k}`, v);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env.set(variable.name, variable.value);
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = fromSource(variable.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name, ref.key, ref.optional).get(ref.key);
      if (value !== undefined) env.set(variable.name, value);
    }
  }
  return env;
}

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
  // Stages in order: name, base image or stage, instructions.
  const stages: { name: string; from: string; lines: string[] }[] = [];
  for (const line of dockerfile.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ name: from[2] ?? `#${stages.length}`, from: from[1], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  /** Instructions that apply to a stage, its bases first. */
  const chain = (name: string): string[] => {
    const stage = stages.find((s) => s.name === name);
    if (!stage) return [];
    return [...chain(stage.from), ...stage.lines];
  };

  it.each(APPS)('has a target for %s that runs its built main.js with node, exec form, as a non-root user', (app) => {
    const lines = chain(app);
    const cmds = lines.filter((l) => /^CMD\s/i.test(l));
    expect(cmds.length).toBeGreaterThan(0);
    const cmd = JSON.parse(cmds[cmds.length - 1].replace(/^CMD\s+/i, '')) as string[];
    expect(cmd[0]).toBe('node');
    const script = cmd[cmd.length - 1];
    expect(script).toBe(`dist/apps/${app}/src/main.js`);
    expect(existsSync(join(ROOT, script))).toBe(true);
    expect(lines.some((l) => /^ENTRYPOINT\s/i.test(l))).toBe(false);

    const cmdIndex = lines.lastIndexOf(cmds[cmds.length - 1]);
    const users = lines.slice(0, cmdIndex).filter((l) => /^USER\s/i.test(l));
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].replace(/^USER\s+/i, '').split(':')[0];
    expect(['root', '0', '']).not.toContain(user);
  });

  it('installs production dependencies only in the runtime image, from a pinned base image', () => {
    expect(chain('runtime').join('\n')).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(stages.find((s) => s.name === 'deps')?.lines.join('\n')).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:\d+\.\d+/);
  });

  it('keeps node_modules, dist and secrets out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', 'dist', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

describe('docker/compose.yaml', () => {
  const [doc] = parseAllDocuments(readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8'), { merge: true });
  const compose = doc.toJSON() as unknown as {
    services: Record<string, { image?: string; build?: { target?: string }; healthcheck?: { test: string[] }; environment?: Record<string, string>; command?: string[] }>;
  };

  it('runs NATS with JetStream, Postgres and a mail sink', () => {
    expect(compose.services.nats.command).toContain('--jetstream');
    expect(compose.services.postgres.image).toMatch(/^postgres:\d/);
    expect(compose.services.maildev.image).toMatch(/^maildev\/maildev:\d/);
  });

  it.each(APPS)('runs %s from its Dockerfile target with a health check and its required settings', (app) => {
    const service = compose.services[app];
    expect(service.build?.target).toBe(app);
    expect(service.healthcheck?.test.join(' ')).toMatch(/\/health\/ready/);
    for (const name of requiredEnvVars(ENV_CLASSES[app])) expect(service.environment?.[name]).toBeTruthy();
  });
});

describe.each(OVERLAYS)('k8s overlay %s', (overlay) => {
  let objects: K8sObject[];
  let templates: PodTemplate[];
  beforeAll(() => {
    objects = render(overlay);
    templates = podTemplates(objects);
  });
  const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

  it('renders objects that each have apiVersion, kind and metadata.name', () => {
    expect(objects.length).toBeGreaterThan(20);
    for (const o of objects) expect({ apiVersion: typeof o.apiVersion, kind: typeof o.kind, name: typeof o.metadata?.name }).toEqual({ apiVersion: 'string', kind: 'string', name: 'string' });
  });

  it('gives every container requests and limits, a non-root user and a pinned image', () => {
    for (const t of templates) {
      for (const c of allContainers(t.spec)) {
        const at = where(t, c);
        for (const kind of ['requests', 'limits'] as const) {
          const { cpu, memory } = c.resources?.[kind] ?? {};
          expect({ at, kind, cpu: isQuantity(cpu), memory: isQuantity(memory) }).toEqual({ at, kind, cpu: true, memory: true });
        }
        const runAsNonRoot = c.securityContext?.runAsNonRoot ?? t.spec.securityContext?.runAsNonRoot;
        const runAsUser = c.securityContext?.runAsUser ?? t.spec.securityContext?.runAsUser;
        expect({ at, runAsNonRoot, root: runAsUser === 0 }).toEqual({ at, runAsNonRoot: true, root: false });
        const tag = c.image ? imageTag(c.image) : undefined;
        expect({ at, image: c.image, pinned: tag !== undefined && tag !== 'latest' }).toEqual({ at, image: c.image, pinned: true });
      }
    }
  });

  // A Job's containers run to completion: they have no probes. Every long-running one has both.
  it('gives every long-running container readiness and liveness probes', () => {
    const longRunning = templates.filter((t) => LONG_RUNNING.has(t.owner.kind ?? ''));
    expect(longRunning.length).toBeGreaterThanOrEqual(APPS.length + 1);
    for (const t of longRunning) {
      for (const c of t.spec.containers) expect({ at: where(t, c), readiness: !!c.readinessProbe, liveness: !!c.livenessProbe }).toEqual({ at: where(t, c), readiness: true, liveness: true });
    }
  });

  it.each(APPS)('runs %s as a Deployment probed on /health/live and /health/ready, behind a Service', (app) => {
    const deployment = named('Deployment', app);
    expect(deployment).toBeDefined();
    const container = deployment?.spec?.template?.spec.containers.find((c) => c.name === app);
    expect(container?.image).toMatch(new RegExp(`/${app}:`));
    expect(container?.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
    const labels = deployment?.spec?.template?.metadata?.labels ?? {};
    const service = objects.find((o) => o.kind === 'Service' && o.metadata?.name === app);
    const selector = (service?.spec?.selector ?? {}) as Record<string, string>;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(selector)) expect(labels[k]).toBe(v);
  });

  it.each(APPS)('provides every setting %s requires, in the Deployment and the migration Job, and they validate', (app) => {
    const cls: new () => ServiceEnv = ENV_CLASSES[app];
    const containers = templates.flatMap((t) => t.spec.containers.filter((c) => c.name === app && c.image?.includes(`/${app}:`)).map((c) => ({ t, c })));
    expect(containers.map(({ t }) => t.owner.kind).sort()).toEqual(['Deployment', 'Job']);
    for (const { t, c } of containers) {
      const env = containerEnv(c, objects, EXTERNAL_SECRETS[overlay]);
      for (const name of requiredEnvVars(cls)) expect({ at: where(t, c), name, provided: env.has(name) }).toEqual({ at: where(t, c), name, provided: true });
      // The values the render holds pass the service's own validation (external Secret
      // values are the operator's; a valid stand-in takes their place here).
      const standIn: Record<string, string> = { DATABASE_URL: 'postgres://u:p@db:5432/posthooks', ADMIN_TOKEN: 'x'.repeat(32), SMTP_URL: 'smtp://mail:587' };
      const plain: NodeJS.ProcessEnv = {};
      for (const [k, v] of env) plain[k] = typeof v === 'string' ? v : standIn[k];
      const loaded = loadEnv(cls, plain);
      expect(loaded.NODE_ENV).toBe('production');
      expect(loaded.NATS_STREAM_REPLICAS).toBe(3);
      expect(loaded.NATS_URL.split(',')).toHaveLength(3);
      const port = c.ports?.find((p) => p.name === 'http')?.containerPort;
      if (t.owner.kind === 'Deployment') expect(loaded.PORT).toBe(port);
      // Kubernetes kills a pod terminationGracePeriodSeconds after SIGTERM: the drain must end first.
      const grace = (t.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      expect(grace).toBeGreaterThan(loaded.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_SAFETY_MS);
    }
  });

  it('commits no secret value for production, and documents every key of the Secrets it expects', () => {
    for (const name of EXTERNAL_SECRETS[overlay]) {
      expect(named('Secret', name)).toBeUndefined();
      const keys = new Set(templates.flatMap((t) => allContainers(t.spec)).flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter((r): r is KeyRef => r?.name === name).map((r) => r.key)));
      expect([...keys].filter((k) => !documentedSecretKeys(name).has(k))).toEqual([]);
    }
    if (overlay === 'production') expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('runs NATS as a 3-node JetStream cluster on PVCs, probed on /healthz, under a PodDisruptionBudget', () => {
    const nats = named('StatefulSet', 'nats');
    expect(nats?.spec?.replicas).toBe(3);
    expect(nats?.spec?.volumeClaimTemplates).toHaveLength(1);
    const container = nats?.spec?.template?.spec.containers[0];
    expect(container?.livenessProbe?.httpGet?.path).toMatch(/^\/healthz/);
    expect(container?.readinessProbe?.httpGet?.path).toMatch(/^\/healthz/);
    const config = named('ConfigMap', 'nats-config')?.data?.['nats.conf'] ?? '';
    expect(config).toMatch(/jetstream\s*{[^}]*store_dir/);
    expect(config.match(/nats:\/\/nats-\d\.nats-headless:6222/g)).toHaveLength(3);
    expect(named('PodDisruptionBudget', 'nats')).toBeDefined();
  });

  it('autoscales the dispatcher and the gateway, and routes the gateway and the registry through an Ingress', () => {
    const scaled = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.spec?.scaleTargetRef);
    expect(scaled).toEqual(expect.arrayContaining([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'dispatcher' }, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ingest-gateway' }]));
    // The HPA owns the replica count: a Deployment that sets one would be reset by every apply.
    for (const target of scaled) {
      const deployment = named(target?.kind ?? '', target?.name ?? '');
      expect({ target: target?.name, found: !!deployment, replicas: deployment?.spec?.replicas }).toEqual({ target: target?.name, found: true, replicas: undefined });
    }
    const backends = objects.filter((o) => o.kind === 'Ingress').flatMap((o) => o.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []).map((p) => p.backend.service);
    expect(backends.map((b) => b?.name)).toEqual(expect.arrayContaining(['hook-registry', 'ingest-gateway']));
    // Only services with an HTTP API are exposed, each through a port its Service has.
    for (const backend of backends) {
      expect(['ingest-gateway', 'hook-registry', 'dispatcher', 'load-simulator']).toContain(backend?.name);
      const ports = (named('Service', backend?.name ?? '')?.spec as { ports?: { name?: string }[] } | undefined)?.ports ?? [];
      expect(ports.map((p) => p.name)).toContain(backend?.port.name);
    }
  });

  it('denies all traffic by default and opens only what the design needs', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata?.name);
    expect(policies).toEqual(expect.arrayContaining(['default-deny', 'allow-dns', 'nats', 'nats-clients', 'db-clients', 'public-http', 'webhook-egress', 'smtp-egress']));
    if (overlay === 'dev') expect(named('StatefulSet', 'postgres')).toBeDefined();
    else expect(named('StatefulSet', 'postgres')).toBeUndefined();
  });
});
