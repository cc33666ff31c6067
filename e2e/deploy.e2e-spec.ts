import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
// devDependencies used by this test only: `yaml` (2.x) parses the render, and
// `kubernetes-models` holds the Kubernetes OpenAPI schemas compiled to validators.
import { parseAllDocuments } from 'yaml';
import ipaddr from 'ipaddr.js';
import { ENV_CLASSES, listenHost, loadEnv, productionAdminTokenProblem, PUBLISHED_ADMIN_TOKENS, requiredEnvVars, ServiceEnv } from '@posthooks/config';
import { publicTargetIpBlocks } from '@posthooks/webhooks';
import type { AppName } from '@posthooks/config';
import { nodeArgs } from '../tools/service-command.cjs';

/**
 * Issue 7 (deployment): every kustomize overlay renders into objects a cluster accepts
 * and that run the services the way they need to run; the Dockerfile runs what
 * `npm run build` produces as a non-root user. Needs kubectl (for `kubectl kustomize`,
 * offline) and a build (`npm test` builds first). No cluster and no Docker engine: the
 * objects are checked here, not applied, and the images are not built. Every rendered
 * object is validated offline against the schema of its kind (kubernetes-models: the
 * Kubernetes OpenAPI definitions compiled to validators), and its fields against the
 * fields that schema knows.
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
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    jobTemplate?: { spec: { template: { spec: PodSpec } } };
    volumeClaimTemplates?: unknown[];
    scaleTargetRef?: { kind: string; name: string };
    rules?: { host?: string; http?: { paths: { path?: string; pathType?: string; backend: { service?: { name: string; port: { name?: string; number?: number } } } }[] } }[];
    tls?: { hosts?: string[] }[];
  };
}
interface PodTemplate {
  owner: K8sObject;
  spec: PodSpec;
}

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** A random token that passes the production rule, as `openssl rand -base64 33` makes one. */
const DEV_ADMIN_TOKEN = randomBytes(33).toString('base64');
const DEV_SECRETS_KEY = randomBytes(32).toString('base64');

/**
 * Renders a copy of k8s/, with the dev overlay's git-ignored admin-token.env written the
 * way k8s/README.md tells an operator to, so a developer's own file plays no part.
 */
function render(overlay: string): K8sObject[] {
  const copy = mkdtempSync(join(tmpdir(), 'posthooks-k8s-'));
  let text: string;
  try {
    cpSync(join(ROOT, 'k8s'), copy, { recursive: true });
    writeFileSync(join(copy, 'overlays', 'dev', 'admin-token.env'), `ADMIN_TOKEN=${DEV_ADMIN_TOKEN}\n`);
    writeFileSync(join(copy, 'overlays', 'dev', 'secrets-key.env'), `SECRETS_KEY=${DEV_SECRETS_KEY}\n`);
    text = execFileSync('kubectl', ['kustomize', join(copy, 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
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
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const docs = readme.slice(Math.max(0, readme.indexOf('## Deploy')));
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

/** A kubernetes-models class: `new Deployment(object).validate()` throws on a schema violation. */
interface KubeModel {
  validate(): void;
}
interface KubeModelClass {
  new (data: object): KubeModel;
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly prototype: KubeModel;
}
const loadModule = createRequire(__filename);

/**
 * The model of a top-level kind: `kubernetes-models/v1/<Kind>` for the core group,
 * `kubernetes-models/<group>/<version>/<Kind>` for the others. Throws when there is none
 * (a custom resource, a misspelt kind or apiVersion): such an object is not validated, so
 * it fails the test rather than pass unchecked.
 */
function modelOf(apiVersion: unknown, kind: unknown): KubeModelClass {
  const missing = new Error(`no Kubernetes schema for apiVersion ${String(apiVersion)}, kind ${String(kind)} (kubernetes-models has no such top-level kind)`);
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^([a-z0-9-]+(\.[a-z0-9-]+)*\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) throw missing;
  let model: KubeModelClass | undefined;
  try {
    model = (loadModule(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, KubeModelClass | undefined>)[kind];
  } catch (err) {
    if (!['MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  // Nested types (DeploymentSpec, …) are models too, but have no apiVersion and kind of their own.
  if (typeof model !== 'function' || model.apiVersion !== apiVersion || model.kind !== kind) throw missing;
  return model;
}

/**
 * Fields the schema does not know, as JSON pointers. The compiled validators do not reject
 * unknown fields (the API server drops them silently, or rejects them with strict field
 * validation), so this runs the validator over a Proxy of the object and records what it
 * reads: for every property in its schema, a validator reads `object.<property>`, and it
 * enumerates the keys of a map (labels, ConfigMap data, resource quantities) instead. A
 * key of a non-map object that the validator never read is not in the schema. Objects of
 * free-form type (x-kubernetes-preserve-unknown-fields, none in this render) would be
 * reported whole.
 */
function unknownFields(model: KubeModelClass, object: object): string[] {
  interface Node {
    path: string;
    proxy: object;
    read: Set<string>;
    enumerated: boolean;
  }
  const nodes = new Map<object, Node>();
  const track = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const seen = nodes.get(value);
    if (seen) return seen.proxy;
    const node: Node = { path, proxy: value, read: new Set(), enumerated: false };
    node.proxy = new Proxy(value, {
      get(target, key) {
        const child: unknown = Reflect.get(target, key);
        if (typeof key !== 'string') return child;
        node.read.add(key);
        return track(child, `${path}/${key}`);
      },
      has(target, key) {
        if (typeof key === 'string') node.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        node.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    nodes.set(value, node);
    return node.proxy;
  };
  // The model's validate() with the proxy as `this` runs the same compiled validator.
  model.prototype.validate.call(track(JSON.parse(JSON.stringify(new model(object))), '') as KubeModel);
  const unknown: string[] = [];
  for (const [value, node] of nodes) {
    if (Array.isArray(value) || node.enumerated) continue;
    for (const key of Object.keys(value)) if (!node.read.has(key)) unknown.push(`${node.path}/${key}`);
  }
  return unknown;
}

/** What is wrong with an object as Kubernetes would read it: schema violations, then unknown fields. */
function schemaProblems(object: K8sObject): string[] {
  const at = `${object.kind}/${object.metadata?.name}`;
  let model: KubeModelClass;
  try {
    model = modelOf(object.apiVersion, object.kind);
  } catch (err) {
    return [`${at}: ${(err as Error).message}`];
  }
  let checked: object = object;
  if (object.kind === 'Secret' && object.data) {
    // kustomize folds a long base64 value over several lines; the API server's decoder
    // (Go's encoding/base64) skips the line breaks, the schema's "byte" format does not.
    const data = Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
    checked = { ...object, data };
  }
  try {
    new model(checked).validate();
  } catch (err) {
    return [`${at}: ${(err as Error).message}`];
  }
  return unknownFields(model, checked).map((path) => `${at}: unknown field ${path}`);
}

/** One path of an Ingress rule, as ingress-nginx reads it. */
interface Route {
  host?: string;
  path?: string;
  pathType?: string;
  service?: string;
  /** Some Ingress of this host sets use-regex: ingress-nginx then makes every path of the host a regular expression anchored at its start (`~* "^<path>"`), whatever its pathType. */
  regex: boolean;
}

function ingressRoutes(objects: K8sObject[]): Route[] {
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  const regexHosts = new Set(ingresses.filter((o) => o.metadata?.annotations?.['nginx.ingress.kubernetes.io/use-regex'] === 'true').flatMap((o) => (o.spec?.rules ?? []).map((r) => r.host)));
  return ingresses.flatMap((o) => o.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => ({ host: r.host, path: p.path, pathType: p.pathType, service: p.backend.service?.name, regex: regexHosts.has(r.host) })));
}

/** Whether ingress-nginx sends a request for `url` (a path) to this route's location. */
function routeMatches(route: Route, url: string): boolean {
  const path = route.path ?? '/';
  if (route.regex) return new RegExp(`^${path}`, 'i').test(url);
  if (route.pathType === 'Exact') return url === path;
  if (route.pathType === 'Prefix') return path === '/' || url === path || url.startsWith(`${path.replace(/\/$/, '')}/`);
  return url.startsWith(path);
}

type LabelSelector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type PolicyPeer = { ipBlock?: { cidr: string; except?: string[] }; podSelector?: LabelSelector; namespaceSelector?: LabelSelector };
type PolicyPort = { protocol?: string; port?: number | string };
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
  egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return values.includes(labels[key]);
    if (operator === 'NotIn') return !values.includes(labels[key]);
    if (operator === 'Exists') return key in labels;
    if (operator === 'DoesNotExist') return !(key in labels);
    throw new Error(`unknown selector operator ${operator}`);
  });
  return byLabels && byExpressions;
}

/** A pod's address in a usual cluster (kind and flannel give pods 10.244.0.0/16): what an ipBlock peer would let through. */
const POD_IP = ipaddr.parse('10.244.1.17');

/** Whether a peer of a rule is a pod of the same namespace with these labels. */
function peerIsPod(peer: PolicyPeer, labels: Record<string, string>): boolean {
  if (peer.ipBlock) {
    const inside = (cidr: string) => {
      const [range, bits] = ipaddr.parseCIDR(cidr);
      return range.kind() === POD_IP.kind() && POD_IP.match(range, bits);
    };
    return inside(peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some(inside);
  }
  // A namespaceSelector names other namespaces (ingress-nginx, monitoring, kube-system): not a pod of ours.
  return !peer.namespaceSelector && selects(peer.podSelector, labels);
}

const portMatches = (ports: PolicyPort[] | undefined, port: { name?: string; containerPort: number }): boolean =>
  !ports?.length || ports.some((p) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port.containerPort || p.port === port.name));

/**
 * The HTTP connections between our own pods that the NetworkPolicies allow: from any pod
 * template to a service's http port, allowed both as the caller's egress and as the
 * service's ingress (every pod is isolated both ways by default-deny). "source -> app:port".
 */
function allowedHttpEdges(objects: K8sObject[]): string[] {
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.spec as unknown as NetworkPolicySpec);
  const pods = podTemplates(objects).map((t) => ({ owner: `${t.owner.kind}/${t.owner.metadata?.name}`, labels: t.owner.spec?.template?.metadata?.labels ?? {}, spec: t.spec }));
  const applying = (labels: Record<string, string>, type: string) => policies.filter((p) => selects(p.podSelector, labels) && (p.policyTypes ?? ['Ingress']).includes(type));
  const edges: string[] = [];
  for (const target of pods.filter((p) => p.owner.startsWith('Deployment/') && APPS.includes(p.owner.slice('Deployment/'.length) as AppName))) {
    const port = target.spec.containers[0].ports?.find((p) => p.name === 'http');
    if (!port) continue;
    for (const source of pods) {
      if (source === target) continue;
      const out = applying(source.labels, 'Egress');
      const egress = out.length === 0 || out.some((p) => (p.egress ?? []).some((rule) => portMatches(rule.ports, port) && (!rule.to?.length || rule.to.some((peer) => peerIsPod(peer, target.labels)))));
      const into = applying(target.labels, 'Ingress');
      const ingress = into.length === 0 || into.some((p) => (p.ingress ?? []).some((rule) => portMatches(rule.ports, port) && (!rule.from?.length || rule.from.some((peer) => peerIsPod(peer, source.labels)))));
      if (egress && ingress) edges.push(`${source.owner} -> ${target.owner.slice('Deployment/'.length)}:${port.containerPort}`);
    }
  }
  return edges.sort();
}

/** What the console's proxy needs, and the only HTTP between our pods (the rest is NATS). */
const CONSOLE_PROXY_EDGES = ['Deployment/hook-registry -> dispatcher:3004', 'Deployment/hook-registry -> ingest-gateway:3001', 'Deployment/hook-registry -> load-simulator:3003'];

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

  it.each(APPS)('runs %s with the same command as npm start, e2e and the benches (tools/service-command.cjs)', (app) => {
    const cmds = chain(app).filter((l) => /^CMD\s/i.test(l));
    const cmd = JSON.parse(cmds[cmds.length - 1].replace(/^CMD\s+/i, '')) as string[];
    expect(cmd).toEqual(['node', ...nodeArgs(app)]);
  });

  it('installs production dependencies only in the runtime image, from a pinned base image', () => {
    const from = /COPY --from=(\S+) \/app\/node_modules/.exec(chain('runtime').join('\n'))?.[1];
    // The stage node_modules comes from installed once (npm ci), then dropped the devDependencies.
    const lines = stages.find((s) => s.name === from)?.lines.join('\n') ?? '';
    expect(lines).toMatch(/npm ci /);
    expect(lines).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:\d+\.\d+/);
  });

  // Issue 19: the classic builder (DOCKER_BUILDKIT=0) builds it, and no frontend image is pulled.
  it('uses nothing the classic builder lacks', () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax=/m);
    const instructions = stages.flatMap((s) => s.lines).join('\n');
    expect(instructions).toMatch(/^RUN npm ci /m);
    expect(instructions).not.toMatch(/RUN\s+--mount|COPY\s+--link|<<-?\s*['"]?[A-Z]+/);
  });

  it('keeps node_modules, dist and secrets out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', 'dist', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

/**
 * Compose's variable interpolation (compose-spec "Interpolation"), enough for this file:
 * `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$`.
 * `docker compose config` is not on every machine that runs these tests; this does what
 * it does to each value, and throws where it would refuse to start.
 */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (match, name: string | undefined, colon: string, op: string, arg: string) => {
    if (match === '$$') return '$';
    const raw = env[name ?? ''];
    const unset = raw === undefined || (colon === ':' && raw === '');
    if (op === '?' && unset) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op === '-' && unset) return arg;
    return raw ?? '';
  });
}

type ComposeService = { image?: string; build?: { target?: string }; healthcheck?: { test: string[] }; environment?: Record<string, string>; command?: string[]; ports?: string[]; volumes?: string[] };
const COMPOSE_TEXT = readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8');

/** The file as compose runs it with `env`: every string value interpolated. */
function composeWith(env: Record<string, string | undefined>): { services: Record<string, ComposeService> } {
  const [doc] = parseAllDocuments(COMPOSE_TEXT, { merge: true });
  const walk = (node: unknown): unknown =>
    typeof node === 'string' ? interpolate(node, env) : Array.isArray(node) ? node.map(walk) : node && typeof node === 'object' ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)])) : node;
  return walk(doc.toJSON()) as { services: Record<string, ComposeService> };
}

describe('docker/compose.yaml', () => {
  const natsPasswords = Object.fromEntries(['HOOK_REGISTRY', 'DISPATCHER', 'INGEST_GATEWAY', 'LOAD_SIMULATOR', 'EMAIL_NOTIFIER'].map((s) => [`NATS_PASSWORD_${s}`, `p${randomBytes(24).toString('hex')}`]));
  const SECRETS = { ADMIN_TOKEN: randomBytes(33).toString('base64'), POSTGRES_PASSWORD: randomBytes(24).toString('hex'), SECRETS_KEY: randomBytes(32).toString('base64'), ...natsPasswords };
  const compose = composeWith(SECRETS);

  it('runs NATS with JetStream, Postgres and a mail sink', () => {
    expect(compose.services.nats.command).toContain('--jetstream');
    expect(compose.services.postgres.image).toMatch(/^postgres:\d/);
    expect(compose.services.maildev.image).toMatch(/^maildev\/maildev:\d/);
  });

  it('runs NATS with the users and permissions k8s uses, and each service as its own user', () => {
    expect(compose.services.nats.command?.slice(0, 2)).toEqual(['--config', '/etc/nats/users.conf']);
    expect(compose.services.nats.volumes).toContain('../k8s/base/nats:/etc/nats:ro');
    const raw = parseAllDocuments(COMPOSE_TEXT, { merge: true })[0].toJSON() as { services: Record<string, ComposeService> };
    for (const app of APPS) {
      const key = `NATS_PASSWORD_${app.toUpperCase().replace(/-/g, '_')}`;
      expect(compose.services[app].environment?.NATS_USER).toBe(app);
      expect(compose.services[app].environment?.NATS_PASSWORD).toBe(SECRETS[key as keyof typeof SECRETS]);
      // No default: compose refuses to start without the password.
      expect(raw.services[app].environment?.NATS_PASSWORD).toMatch(new RegExp(`^\\$\\{${key}:\\?`));
      expect(raw.services.nats.environment?.[key]).toMatch(new RegExp(`^\\$\\{${key}:\\?`));
    }
  });

  it.each(APPS)('runs %s from its Dockerfile target with a health check and its required settings', (app) => {
    const service = compose.services[app];
    expect(service.build?.target).toBe(app);
    expect(service.healthcheck?.test.join(' ')).toMatch(/\/health\/ready/);
    for (const name of requiredEnvVars(ENV_CLASSES[app])) expect(service.environment?.[name]).toBeTruthy();
  });

  // Issue 15: no default admin token, no default Postgres password.
  it.each([
    ['ADMIN_TOKEN', { ...natsPasswords, POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD, SECRETS_KEY: SECRETS.SECRETS_KEY }],
    ['ADMIN_TOKEN', { ...natsPasswords, POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD, SECRETS_KEY: SECRETS.SECRETS_KEY, ADMIN_TOKEN: '' }],
    ['POSTGRES_PASSWORD', { ...natsPasswords, ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, SECRETS_KEY: SECRETS.SECRETS_KEY }],
    ['SECRETS_KEY', { ...natsPasswords, ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD }],
  ])('refuses to start without %s, and says how to set it', (name, env) => {
    expect(() => composeWith(env)).toThrow(new RegExp(`^required variable ${name} is missing a value: set ${name}`));
  });

  it('ships no default for any secret', () => {
    const defaults = [...COMPOSE_TEXT.matchAll(/\$\{([A-Z_]*(?:SECRET|TOKEN|PASSWORD|KEY)[A-Z_]*):?-/g)].map((m) => m[1]);
    expect(defaults).toEqual([]);
  });

  it.each(APPS)('gives %s, with the operator\'s secrets, settings that validate in production', (app) => {
    const env = loadEnv<ServiceEnv & { ADMIN_TOKEN?: string; SMTP_URL?: string }>(ENV_CLASSES[app], compose.services[app].environment ?? {});
    expect(env.NODE_ENV).toBe('production');
    // In a container the service listens on every interface; compose publishes the port.
    expect(listenHost(env)).toBeUndefined();
    if (app === 'hook-registry') expect(env.ADMIN_TOKEN).toBe(SECRETS.ADMIN_TOKEN);
    // Only the services that seal or open secrets get the key: hook secrets (registry, dispatcher), destination passwords (registry, load-simulator).
    expect({ app, hasKey: compose.services[app].environment?.SECRETS_KEY !== undefined }).toEqual({ app, hasKey: ['hook-registry', 'dispatcher', 'load-simulator'].includes(app) });
  });

  // Issue 18: the console's proxy reaches the other APIs on the compose network; emails link to the console.
  it('points the registry\'s console proxy at the three services, and the notifier\'s links at the published console', () => {
    const registry = compose.services['hook-registry'].environment ?? {};
    for (const [variable, app] of [['DISPATCHER_URL', 'dispatcher'], ['INGEST_GATEWAY_URL', 'ingest-gateway'], ['LOAD_SIMULATOR_URL', 'load-simulator']]) {
      expect({ variable, url: registry[variable] }).toEqual({ variable, url: `http://${app}:${compose.services[app].environment?.PORT}` });
    }
    expect(compose.services['hook-registry'].ports).toEqual(['3002:3002']);
    expect(compose.services['email-notifier'].environment?.CONSOLE_URL).toBe('http://localhost:3002/console');
    expect(composeWith({ ...SECRETS, CONSOLE_URL: 'https://console.example.com/console' }).services['email-notifier'].environment?.CONSOLE_URL).toBe('https://console.example.com/console');
  });

  it('publishes NATS, its monitoring port, Postgres and maildev on 127.0.0.1 only', () => {
    for (const name of ['nats', 'postgres', 'maildev']) {
      const ports = compose.services[name].ports ?? [];
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) expect({ name, port, loopback: port.startsWith('127.0.0.1:') }).toEqual({ name, port, loopback: true });
    }
    expect(compose.services.nats.ports).toEqual(expect.arrayContaining(['127.0.0.1:4222:4222', '127.0.0.1:8222:8222']));
    // Nothing else publishes those ports.
    const elsewhere = Object.entries(compose.services)
      .filter(([name]) => !['nats', 'postgres', 'maildev'].includes(name))
      .flatMap(([, service]) => service.ports ?? [])
      .filter((port) => /:(4222|6222|8222|5432|1025|1080)(\/tcp)?$/.test(port) || /^(4222|6222|8222|5432|1025|1080):/.test(port));
    expect(elsewhere).toEqual([]);
  });
});

/**
 * Issue 15: a production ADMIN_TOKEN is none of the tokens written in the repository.
 * Every string here that looks like an admin token (named `…admin-token…`, or a literal
 * of 32+ characters given to ADMIN or ADMIN_TOKEN) must be refused by the production rule,
 * so adding one to a file without adding it to PUBLISHED_ADMIN_TOKENS fails here.
 */
describe('admin tokens written in the repository', () => {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.endsWith('package-lock.json') && /\.(ts|mjs|cjs|js|json|ya?ml|md|sh|env|conf)$|Dockerfile$/.test(f) && existsSync(join(ROOT, f)));
  const found = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/[A-Za-z0-9_-]*admin-token[A-Za-z0-9_-]*/g)) found.add(m[0]);
    for (const m of text.matchAll(/\bADMIN(?:_TOKEN)?\s*[=:]\s*(['"]?)([A-Za-z0-9+/=_.-]{32,})\1/g)) found.add(m[2]);
  }
  const candidates = [...found].filter((token) => token.length >= 32);

  it('finds the ones the README, npm start, tests and bench use', () => {
    expect(candidates).toEqual(expect.arrayContaining(['posthooks-dev-admin-token-change-me', 'test-admin-token-0123456789abcdef', 'bench-admin-token-0123456789abcdefgh']));
  });

  it('refuses every one of them in production', () => {
    expect(candidates.filter((token) => productionAdminTokenProblem(token) === null)).toEqual([]);
    expect(PUBLISHED_ADMIN_TOKENS.length).toBeGreaterThan(0);
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

  it('renders only objects that validate against the Kubernetes schema of their kind, with no unknown field', () => {
    expect(objects.flatMap(schemaProblems)).toEqual([]);
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
      const standIn: Record<string, string> = { DATABASE_URL: 'postgres://u:p@db:5432/posthooks', ADMIN_TOKEN: randomBytes(33).toString('base64'), SECRETS_KEY: randomBytes(32).toString('base64'), SMTP_URL: 'smtp://mail:587' };
      const plain: NodeJS.ProcessEnv = {};
      for (const [k, v] of env) plain[k] = typeof v === 'string' ? v : standIn[k];
      const loaded = loadEnv(cls, plain);
      expect(loaded.NODE_ENV).toBe('production');
      expect(loaded.NATS_STREAM_REPLICAS).toBe(3);
      expect(loaded.NATS_URL.split(',')).toHaveLength(3);
      // A pod is reached on its pod IP: the service listens on every interface.
      expect(listenHost(loaded)).toBeUndefined();
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

  // Issue 15: each service its own NATS user; the server's users and permissions are the
  // files of k8s/base/nats/ (the ones compose mounts and e2e/nats-auth.e2e-spec.ts runs).
  it.each(APPS)('connects %s to NATS as its own user, with its password from the Secret, in the Deployment and the Job', (app) => {
    const key = `NATS_PASSWORD_${app.toUpperCase().replace(/-/g, '_')}`;
    const containers = templates.flatMap((t) => t.spec.containers.filter((c) => c.name === app && c.image?.includes(`/${app}:`)));
    expect(containers).toHaveLength(2);
    for (const c of containers) {
      const env = c.env ?? [];
      expect(env.find((e) => e.name === 'NATS_USER')?.value).toBe(app);
      expect(env.find((e) => e.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: expect.stringMatching(/^posthooks-secrets(-[a-z0-9]+)?$/), key });
    }
    const server = named('StatefulSet', 'nats')?.spec?.template?.spec.containers[0];
    expect(server?.env?.find((e) => e.name === key)?.valueFrom?.secretKeyRef).toEqual({ name: expect.stringMatching(/^posthooks-secrets(-[a-z0-9]+)?$/), key });
  });

  it('gives nats-server a configuration that includes the shipped users and permissions, and that nats-server accepts', () => {
    const auth = objects.find((o) => o.kind === 'ConfigMap' && /^nats-auth-/.test(o.metadata?.name ?? ''));
    for (const file of ['permissions.conf', 'users.conf', 'users-nkeys.conf']) expect(auth?.data?.[file]).toBe(readFileSync(join(ROOT, 'k8s', 'base', 'nats', file), 'utf8'));
    const volumes = (named('StatefulSet', 'nats')?.spec?.template?.spec as unknown as { volumes: { name: string; projected?: { sources: { configMap?: { name: string } }[] } }[] }).volumes;
    const projected = volumes.find((v) => v.name === 'config')?.projected?.sources.map((src) => src.configMap?.name);
    expect(projected).toEqual(['nats-config', auth?.metadata?.name]);
    // The files as the pod sees them, checked by nats-server itself (-t: parse and exit).
    const dir = mkdtempSync(join(tmpdir(), 'posthooks-nats-conf-'));
    try {
      for (const cm of [named('ConfigMap', 'nats-config'), auth]) for (const [file, text] of Object.entries(cm?.data ?? {})) writeFileSync(join(dir, file), text);
      const env = { PATH: process.env.PATH, POD_NAME: 'nats-0', ...Object.fromEntries(APPS.map((a) => [`NATS_PASSWORD_${a.toUpperCase().replace(/-/g, '_')}`, 'x'])) };
      expect(() => execFileSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], { env, stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // nats-server reserves each stream's max_bytes on every node when it creates the stream:
  // the byte limits of posthooks-config must fit each node's max_file_store together.
  it('gives the streams byte limits that fit the NATS nodes\' max_file_store together', () => {
    const natsConf = named('ConfigMap', 'nats-config')?.data?.['nats.conf'] ?? '';
    const store = /max_file_store:\s*(\d+)\s*([KMGT]?B)/i.exec(natsConf);
    expect(store).not.toBeNull();
    const unit: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
    const maxFileStore = Number(store![1]) * unit[store![2].toUpperCase()];
    const settings = named('ConfigMap', 'posthooks-config')?.data ?? {};
    const limits = ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'DEADLETTER'].map((s) => Number(settings[`STREAM_MAX_BYTES_${s}`]));
    expect(limits.every((l) => Number.isInteger(l) && l > 0)).toBe(true);
    // Room left for REGISTRY (no byte limit) and the upgrade lock's bucket.
    expect(limits.reduce((a, b) => a + b, 0)).toBeLessThan(maxFileStore * 0.8);
  });

  // Migrations and streams: each service migrates its schema and creates every stream
  // (NATS_STREAM_REPLICAS replicas, checked above) and its consumers at start; the Job
  // runs that step once ahead of the rollout, each service until it reports ready.
  it('runs a migration and stream-provisioning Job that starts each service until /health/ready, as a NATS and database client', () => {
    const job = named('Job', 'posthooks-migrate');
    const template = (job?.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec & { restartPolicy?: string } } } | undefined)?.template;
    expect(['OnFailure', 'Never']).toContain(template?.spec.restartPolicy);
    expect(template?.metadata?.labels).toMatchObject({ 'posthooks.dev/nats-client': 'true', 'posthooks.dev/db-client': 'true' });
    for (const app of APPS) {
      const container = template?.spec.containers.find((c) => c.name === app) as (Container & { command?: string[] }) | undefined;
      const port = container?.env?.find((e) => e.name === 'PORT')?.value;
      const script = (container?.command ?? []).join(' ');
      expect({ app, port: /^\d+$/.test(port ?? '') }).toEqual({ app, port: true });
      expect(script).toContain(`node dist/apps/${app}/src/main.js`);
      expect(script).toContain(`http://127.0.0.1:${port}/health/ready`);
    }
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
    // API and console paths only: /health/* and /metrics (on the same ports) stay inside
    // the cluster, as ingress-nginx matches paths (on a use-regex host, "^<path>").
    const routes = ingressRoutes(objects).map(({ host, path, service }) => ({ host, path, service }));
    for (const route of ingressRoutes(objects)) {
      for (const url of ['/health/live', '/health/ready', '/metrics', '/metrics/']) expect({ ...route, url, routed: routeMatches(route, url) }).toEqual({ ...route, url, routed: false });
    }
    expect(routes).toEqual(
      expect.arrayContaining([
        { host: expect.stringMatching(/^hooks\./), path: '/v1/incoming', service: 'ingest-gateway' },
        { host: expect.stringMatching(/^api\./), path: '/v1/integrations', service: 'ingest-gateway' },
        { host: expect.stringMatching(/^api\./), path: '/v1', service: 'hook-registry' },
      ]),
    );
  });

  // Issue 18: the console, served by the registry at /console ("/" redirects there).
  it('routes the console, its proxy and "/" on the API host to the registry, and links emails to it there', () => {
    const routes = ingressRoutes(objects);
    const apiHost = routes.find((r) => r.path === '/v1' && r.service === 'hook-registry')?.host;
    expect(apiHost).toMatch(/^api\./);
    const onApi = routes.filter((r) => r.host === apiHost);
    // The page, its files and proxy, and the registry API it calls directly (apps/console/src/api.ts).
    const consoleUrls = ['/', '/console', '/console/', '/console/assets/index.js', '/console/api/session', '/console/api/dispatcher/v1/hooks/1/deliveries', '/console/api/load-simulator/v1/simulations'];
    const registryUrls = ['/notifications/public/v1/api/hooks', '/v1/hooks/1/settings', '/v1/hooks/1/rotate-secret', '/v1/hooks/1/test', '/v1/destinations'];
    for (const url of [...consoleUrls, ...registryUrls]) {
      expect({ url, services: [...new Set(onApi.filter((r) => routeMatches(r, url)).map((r) => r.service))] }).toEqual({ url, services: ['hook-registry'] });
    }
    // "/" only, not every path: an unrouted path stays unrouted (the controller's 404).
    expect(onApi.filter((r) => routeMatches(r, '/anything')).map((r) => r.path)).toEqual([]);
    const tls = objects.filter((o) => o.kind === 'Ingress').some((o) => (o.spec?.tls ?? []).some((t) => t.hosts?.includes(apiHost ?? '')));
    expect(named('ConfigMap', 'posthooks-config')?.data?.CONSOLE_URL).toBe(`${tls ? 'https' : 'http'}://${apiHost}/console`);
    expect(tls).toBe(overlay === 'production');
  });

  it('points the registry\'s console proxy at the three APIs\' Services, on their ports', () => {
    const config = named('ConfigMap', 'posthooks-config')?.data ?? {};
    for (const [variable, app] of [['DISPATCHER_URL', 'dispatcher'], ['INGEST_GATEWAY_URL', 'ingest-gateway'], ['LOAD_SIMULATOR_URL', 'load-simulator']]) {
      const port = (named('Service', app)?.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports?.find((p) => p.name === 'http')?.port;
      expect({ variable, url: config[variable] }).toEqual({ variable, url: `http://${app}:${port}` });
    }
  });

  it('allows HTTP between its own pods only from the registry to the three APIs the console proxies', () => {
    expect(allowedHttpEdges(objects)).toEqual(CONSOLE_PROXY_EDGES);
    // The proxy's egress is stated on its own (destination-egress happens to allow it too, and may narrow).
    const proxy = named('NetworkPolicy', 'console-proxy')?.spec as unknown as NetworkPolicySpec;
    expect(proxy.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'hook-registry' } });
    const wanted = CONSOLE_PROXY_EDGES.map((edge) => edge.split(' -> ')[1].split(':'));
    expect(proxy.egress).toEqual(wanted.map(([app, port]) => ({ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': app } } }], ports: [{ protocol: 'TCP', port: Number(port) }] })));
  });

  type Peer = { ipBlock?: { cidr: string; except?: string[] }; podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: { matchLabels?: Record<string, string> } };
  type EgressRule = { to?: Peer[]; ports?: { protocol?: string; port?: number | string }[] };
  const egressOf = (name: string): EgressRule[] => ((named('NetworkPolicy', name)?.spec ?? {}) as { egress?: EgressRule[] }).egress ?? [];
  const podLabels = () => templates.map((t) => ({ owner: `${t.owner.kind}/${t.owner.metadata?.name}`, labels: t.owner.spec?.template?.metadata?.labels ?? {} }));

  // Issue 15: the network refuses what the dispatcher's target guard refuses, from one list.
  it('lets webhooks out only to the addresses the target guard accepts', () => {
    const blocks = egressOf('webhook-egress').flatMap((rule) => rule.to ?? []).map((peer) => peer.ipBlock);
    expect(blocks).toEqual(publicTargetIpBlocks());
    expect(egressOf('webhook-egress').every((rule) => (rule.to ?? []).every((peer) => peer.ipBlock && !peer.podSelector && !peer.namespaceSelector))).toBe(true);
  });

  it('gives webhook egress to the dispatcher only and SMTP egress to the notifier only: not to the migration Job', () => {
    const holders = (label: string) => podLabels().filter((p) => p.labels[label] === 'true').map((p) => p.owner);
    expect(holders('posthooks.dev/webhook-egress')).toEqual(['Deployment/dispatcher']);
    expect(holders('posthooks.dev/smtp-egress')).toEqual(['Deployment/email-notifier']);
    expect(holders('posthooks.dev/destination-egress')).toEqual(['Deployment/hook-registry', 'Deployment/load-simulator']);
    expect(podLabels().find((p) => p.owner === 'Job/posthooks-migrate')?.labels).toMatchObject({ 'posthooks.dev/nats-client': 'true', 'posthooks.dev/db-client': 'true' });
  });

  it('lets the database clients reach Postgres\' port only, never on the internet', () => {
    const rules = egressOf('db-clients');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
      for (const peer of rule.to ?? []) {
        if (peer.ipBlock) expect({ cidr: peer.ipBlock.cidr, public: !['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].includes(peer.ipBlock.cidr) && !/\/32$/.test(peer.ipBlock.cidr) }).toEqual({ cidr: peer.ipBlock.cidr, public: false });
        else expect(peer.podSelector ?? peer.namespaceSelector).toBeDefined();
      }
      expect(rule.to?.length).toBeGreaterThan(0);
    }
    if (overlay === 'dev') expect(rules).toEqual([{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'postgres' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);
  });

  it('never renders an admin token written in the repository', () => {
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata?.name?.startsWith('posthooks-secrets'));
    if (overlay === 'production') return expect(secret).toBeUndefined();
    const token = secret ? decode(secret, 'ADMIN_TOKEN') : undefined;
    expect(token).toBe(DEV_ADMIN_TOKEN);
    expect(productionAdminTokenProblem(token ?? '')).toBeNull();
  });

  it('denies all traffic by default and opens only what the design needs', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata?.name);
    expect(policies).toEqual(expect.arrayContaining(['default-deny', 'allow-dns', 'nats', 'nats-clients', 'db-clients', 'public-http', 'webhook-egress', 'smtp-egress', 'destination-egress', 'console-proxy', 'console-proxy-upstreams']));
    if (overlay === 'dev') expect(named('StatefulSet', 'postgres')).toBeDefined();
    else expect(named('StatefulSet', 'postgres')).toBeUndefined();
  });
});

// The check above proves nothing unless it fails on a broken object: these break one
// rendered object at a time and expect the problem reported.
describe('the Kubernetes schema check', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render('dev');
  });
  const copyOf = (kind: string, name: string): K8sObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    expect(found).toBeDefined();
    return JSON.parse(JSON.stringify(found)) as K8sObject;
  };
  const dispatcherContainer = (deployment: K8sObject): Container & Record<string, unknown> => deployment.spec?.template?.spec.containers[0] as Container & Record<string, unknown>;

  it('passes the rendered dispatcher Deployment (the objects below break it)', () => {
    expect(schemaProblems(copyOf('Deployment', 'dispatcher'))).toEqual([]);
  });

  it('rejects a containerPort given as a string', () => {
    const deployment = copyOf('Deployment', 'dispatcher');
    (dispatcherContainer(deployment).ports as unknown as { containerPort: unknown }[])[0].containerPort = '3004';
    expect(schemaProblems(deployment)).toEqual([expect.stringMatching(/^Deployment\/dispatcher: .*\/containers\/0\/ports\/0\/containerPort must be integer/)]);
  });

  it('rejects a missing required field and a value outside its enum', () => {
    const deployment = copyOf('Deployment', 'dispatcher');
    delete (deployment.spec as Record<string, unknown>).selector;
    (deployment.spec as Record<string, unknown>).strategy = { type: 'Rolling' };
    const [problem] = schemaProblems(deployment);
    expect(problem).toMatch(/data\/spec must have required property selector/);
    expect(problem).toMatch(/strategy\/type must be equal to one of the allowed values/);
  });

  it('reports misspelt fields, at any depth, with their path', () => {
    const deployment = copyOf('Deployment', 'dispatcher');
    const container = dispatcherContainer(deployment);
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    (container.resources as Record<string, unknown>).limts = { cpu: '2' };
    (deployment.spec as Record<string, unknown>).replica = 3;
    expect(schemaProblems(deployment).sort()).toEqual(
      ['/spec/replica', '/spec/template/spec/containers/0/readinesProbe', '/spec/template/spec/containers/0/resources/limts'].map((path) => `Deployment/dispatcher: unknown field ${path}`),
    );
  });

  it('takes any key in a map (labels, ConfigMap data) for what it is', () => {
    const config = copyOf('ConfigMap', 'posthooks-config');
    config.data = { ...config.data, ANY_NEW_SETTING: 'x' };
    config.metadata = { ...config.metadata, labels: { ...config.metadata?.labels, 'example.com/any': 'y' } };
    expect(schemaProblems(config)).toEqual([]);
  });

  it('rejects Secret data that is not base64', () => {
    const secret = objects.find((o) => o.kind === 'Secret');
    expect(secret).toBeDefined();
    expect(schemaProblems({ ...secret, data: { DATABASE_URL: 'postgres://not-base64' } })).toEqual([expect.stringMatching(/data\/DATABASE_URL must match format "byte"/)]);
  });

  it('fails an object whose kind has no schema instead of skipping it', () => {
    const certificate: K8sObject = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'posthooks-tls' } };
    const misspelt: K8sObject = { ...copyOf('Deployment', 'dispatcher'), kind: 'Deploymnet' };
    const nested: K8sObject = { apiVersion: 'apps/v1', kind: 'DeploymentSpec', metadata: { name: 'x' } };
    const wrongVersion: K8sObject = { ...copyOf('HorizontalPodAutoscaler', 'dispatcher'), apiVersion: 'autoscaling/v3' };
    for (const object of [certificate, misspelt, nested, wrongVersion]) expect(schemaProblems(object)).toEqual([expect.stringMatching(/no Kubernetes schema for/)]);
  });
});

// The route and network checks above prove nothing unless they fail on a broken render.
describe('the Ingress route and NetworkPolicy checks', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render('dev');
  });
  const copy = (): K8sObject[] => JSON.parse(JSON.stringify(objects)) as K8sObject[];
  const policy = (all: K8sObject[], name: string): NetworkPolicySpec => all.find((o) => o.kind === 'NetworkPolicy' && o.metadata?.name === name)?.spec as unknown as NetworkPolicySpec;

  it('takes an Exact "/" on a use-regex host for what ingress-nginx makes of it: every path', () => {
    const root: Route = { host: 'api.example', path: '/', pathType: 'Exact', service: 'hook-registry', regex: true };
    expect(['/metrics', '/health/ready'].map((url) => routeMatches(root, url))).toEqual([true, true]);
    expect(['/metrics', '/'].map((url) => routeMatches({ ...root, regex: false }, url))).toEqual([false, true]);
    expect(['/', '/metrics'].map((url) => routeMatches({ ...root, path: '/$', pathType: 'ImplementationSpecific' }, url))).toEqual([true, false]);
    // Prefix matches whole segments: /console/x and /console, not /consoles.
    const prefix: Route = { host: 'h', path: '/console', pathType: 'Prefix', regex: false };
    expect(['/console', '/console/x', '/consoles'].map((url) => routeMatches(prefix, url))).toEqual([true, true, false]);
  });

  it('finds no HTTP between pods without the upstreams\' ingress policy, and more when both sides are opened to every pod', () => {
    // The registry's egress alone is not enough: destination-egress lets it out to any private address anyway.
    const withoutEgress = copy().filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata?.name === 'console-proxy'));
    expect(allowedHttpEdges(withoutEgress)).toEqual(CONSOLE_PROXY_EDGES);
    const without = copy().filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata?.name === 'console-proxy-upstreams'));
    expect(allowedHttpEdges(without)).toEqual([]);
    const open = copy();
    policy(open, 'console-proxy').podSelector = {};
    policy(open, 'console-proxy-upstreams').ingress = [{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 'http' }] }];
    expect(allowedHttpEdges(open)).toEqual(expect.arrayContaining([...CONSOLE_PROXY_EDGES, 'Job/posthooks-migrate -> dispatcher:3004', 'Deployment/dispatcher -> load-simulator:3003']));
  });

  it('counts an ipBlock that holds pod addresses, and not one that excepts them', () => {
    const open = copy();
    policy(open, 'smtp-egress').egress = [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }];
    // The only ingress rule now excepts the pods' addresses: even the registry is refused.
    policy(open, 'console-proxy-upstreams').ingress = [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }];
    expect(allowedHttpEdges(open)).toEqual([]);
    policy(open, 'console-proxy-upstreams').ingress = [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }];
    expect(allowedHttpEdges(open)).toEqual(expect.arrayContaining(['Deployment/email-notifier -> dispatcher:3004']));
  });
});
