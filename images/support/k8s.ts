import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AppName, ROOT } from './docker';

export interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}

interface PodSpec {
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
  terminationGracePeriodSeconds?: number;
  containers: K8sContainer[];
  volumes?: { name: string; emptyDir?: object }[];
}

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec: PodSpec } };
}

/** An overlay rendered by `kubectl kustomize`, with the dev overlay's git-ignored env files made up (k8s/README.md). */
export function renderOverlay(overlay: 'dev' | 'production'): K8sObject[] {
  const copy = mkdtempSync(join(tmpdir(), 'posthooks-k8s-'));
  try {
    cpSync(join(ROOT, 'k8s'), copy, { recursive: true });
    writeFileSync(join(copy, 'overlays', 'dev', 'admin-token.env'), `ADMIN_TOKEN=${randomBytes(33).toString('base64')}\n`);
    writeFileSync(join(copy, 'overlays', 'dev', 'secrets-key.env'), `SECRETS_KEY=${randomBytes(32).toString('base64')}\n`);
    const text = execFileSync('kubectl', ['kustomize', join(copy, 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

export interface AppPod {
  container: K8sContainer;
  pod: PodSpec;
  /** Where the pod mounts an emptyDir into the container (a tmpfs for `docker run`). */
  emptyDirMounts: string[];
  /** The user the container runs as (container's securityContext, else the pod's). */
  runAsUser?: number;
  readOnlyRootFilesystem: boolean;
}

/** The Deployment of `app` in rendered objects, and its container of the same name. */
export function appPod(objects: K8sObject[], app: AppName): AppPod {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app);
  const pod = deployment?.spec?.template?.spec;
  const container = pod?.containers.find((c) => c.name === app) ?? pod?.containers[0];
  if (!pod || !container) throw new Error(`no Deployment ${app} with a container in the rendered overlay`);
  const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
  return {
    container,
    pod,
    emptyDirMounts: (container.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath),
    runAsUser: container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser,
    readOnlyRootFilesystem: container.securityContext?.readOnlyRootFilesystem === true,
  };
}
