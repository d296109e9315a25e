/**
 * Kubernetes manifests for one flow: the flow and every file it reads in a ConfigMap (files
 * holding secrets, TLS keys and certificates, come from a Secret the user creates), a Deployment that runs the Weft image on it (probes on the admin port, non-root, read-only
 * root filesystem, a grace period longer than the drain), a Service, a HorizontalPodAutoscaler
 * (a KEDA ScaledObject for queue triggers, none for a timer, which runs as one pod) and a
 * PodDisruptionBudget. Every name derives from the flow's `name` (a DNS-1123 label).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { stringify } from 'yaml';
import type { CompiledFlow } from '../flow/compile.ts';
import { DRAIN_TIMEOUT_MS } from '../engine/lifecycle.ts';
import { DEFAULT_QUEUE_TARGET, scaledObject } from './keda.ts';

export interface K8sOptions {
  image: string;
  replicas?: number;
  min?: number;
  max?: number;
  /** CPU request, e.g. `250m`; the HPA's utilisation target is relative to it. */
  cpu?: string;
  /** Memory request and limit, e.g. `256Mi`. */
  memory?: string;
  /** Average CPU utilisation (percent of the request) the HPA aims at. */
  cpuTarget?: number;
  /** Extra container environment (what `${env.X}` in the flow reads). */
  env?: Record<string, string>;
  namespace?: string;
  /** Queue-triggered flows: messages waiting per replica that KEDA aims at. */
  queueTarget?: number;
  /** NATS-triggered flows: the NATS monitoring endpoint (host:port) KEDA reads. */
  natsMonitoring?: string;
}

export const TRAFFIC_PORT = 8080;
export const ADMIN_PORT = 8081;
/** Where the image expects the flow: the Dockerfile's FLOW default. */
export const FLOW_DIR = '/flow';
/** Seconds the pod keeps serving after SIGTERM is due, so endpoints drop it from Services first. */
export const PRE_STOP_SECONDS = 5;

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> } };

/** A problem that stops generation (the flow itself loaded). */
export class K8sError extends Error {}

export const DEFAULTS = { replicas: 2, cpu: '100m', memory: '256Mi', cpuTarget: 70, maxFactor: 5 } as const;

/**
 * Why a timer flow runs as one pod: each process keeps its own schedule, so every replica
 * would fire each tick (two runs of a sync job, two copies of what it publishes). Written on
 * the Deployment so whoever reads the cluster sees why it does not scale.
 */
const SINGLE_REPLICA_WHY = 'timer trigger: every replica would fire each tick, so this flow runs as exactly one pod (no autoscaler; Recreate, so a rollout never runs two)';

export function buildManifests(flow: CompiledFlow, options: K8sOptions): Manifest[] {
  const name = flow.info.name;
  const triggerKind = Object.keys(flow.doc.trigger)[0];
  const single = triggerKind === 'timer';
  if (single) {
    const asked = (['replicas', 'min', 'max'] as const).filter((k) => options[k] !== undefined && options[k] !== 1);
    if (asked.length > 0) throw new K8sError(`--${asked.join(', --')}: a timer flow runs as exactly one replica (every replica would fire each tick)`);
  }
  const replicas = single ? 1 : (options.replicas ?? options.min ?? DEFAULTS.replicas);
  const min = options.min ?? replicas;
  const max = options.max ?? Math.max(min, replicas) * DEFAULTS.maxFactor;
  if (!(min >= 1 && min <= replicas && replicas <= max)) {
    throw new K8sError(`replicas must satisfy 1 <= min (${min}) <= replicas (${replicas}) <= max (${max})`);
  }
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'flow', 'app.kubernetes.io/managed-by': 'weft' };
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'flow' };
  const metadata = (suffix = '') => ({ name: `${name}${suffix}`, ...(options.namespace ? { namespace: options.namespace } : {}), labels });

  const files = configFiles(flow);
  const secret = secretFiles(flow);
  const data: Record<string, string> = {};
  for (const f of files) data[f.key] = f.text;
  const checksum = createHash('sha256');
  for (const f of files) checksum.update(f.key).update('\0').update(f.text).update('\0');

  const cpu = options.cpu ?? DEFAULTS.cpu;
  const memory = options.memory ?? DEFAULTS.memory;
  // The drain runs after the preStop pause; the grace period covers both with room to exit.
  const grace = PRE_STOP_SECONDS + Math.ceil(DRAIN_TIMEOUT_MS / 1000) + 10;
  const env = [
    { name: 'PORT', value: String(TRAFFIC_PORT) },
    { name: 'ADMIN_PORT', value: String(ADMIN_PORT) },
    { name: 'LOG_LEVEL', value: 'info' },
    ...Object.entries(options.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
  ];

  const configMap: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata('-flow'), data };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: single ? { ...metadata(), annotations: { 'weft.dev/single-replica': SINGLE_REPLICA_WHY } } : metadata(),
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      // Never below the wanted count during a rollout: a new pod must be ready before an old one
      // drains. A timer flow instead stops the old pod first: a missed tick beats a doubled one.
      strategy: single ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(ADMIN_PORT),
            'prometheus.io/path': '/metrics',
            // A changed flow or schema changes the pod template, so `kubectl apply` rolls the pods.
            'weft.dev/flow-checksum': checksum.digest('hex').slice(0, 16),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: grace,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'weft',
              image: options.image,
              args: ['run', `${FLOW_DIR}/flow.yaml`],
              env,
              ports: [
                { name: 'http', containerPort: TRAFFIC_PORT, protocol: 'TCP' },
                { name: 'admin', containerPort: ADMIN_PORT, protocol: 'TCP' },
              ],
              startupProbe: { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 1, failureThreshold: 30 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'admin' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
              // No CPU limit: throttling stalls the event loop and the probes with it; the HPA scales on the request.
              resources: { requests: { cpu, memory }, limits: { memory } },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'flow', mountPath: FLOW_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'flow', ...flowVolume(configMap.metadata.name, files, `${name}${SECRET_SUFFIX}`, secret.mounted) },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(),
    spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  const hpa: Manifest = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: options.cpuTarget ?? DEFAULTS.cpuTarget } } }],
    },
  };
  // A queue-triggered flow scales on its backlog (KEDA), not on CPU, and serves no traffic port.
  const keda = scaledObject(triggerKind, flow.doc.trigger[triggerKind], readFileSync(flow.info.file, 'utf8'), { min, max, name, metadata }, {
    queueTarget: options.queueTarget ?? DEFAULT_QUEUE_TARGET,
    natsMonitoring: options.natsMonitoring,
  });
  const pdb: Manifest = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
  if (triggerKind !== 'http') {
    const container = (deployment.spec as { template: { spec: { containers: { ports: { name: string }[] }[] } } }).template.spec.containers[0];
    container.ports = container.ports.filter((p) => p.name === 'admin');
  }
  const scaler = single ? [] : [keda ?? hpa];
  return [configMap, deployment, ...(triggerKind === 'http' ? [service] : []), ...scaler, pdb];
}

export function manifestsYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** The Secret holding the flow's secret files is named after the flow with this suffix. */
export const SECRET_SUFFIX = '-secret';

interface MountedFile {
  /** ConfigMap or Secret key: [-._a-zA-Z0-9]+, so folders are encoded. */
  key: string;
  /** Where the file lands under FLOW_DIR, as the flow refers to it. */
  path: string;
  /** Where the file is on this machine. */
  file: string;
}

interface ConfigFile extends MountedFile {
  text: string;
}

/** The flow as flow.yaml and every file it reads at its path relative to the flow. */
function configFiles(flow: CompiledFlow): ConfigFile[] {
  const out: ConfigFile[] = [{ key: 'flow.yaml', path: 'flow.yaml', file: flow.info.file, text: readFileSync(flow.info.file, 'utf8') }];
  for (const file of flow.files) {
    const mounted = mountedFile(flow, file, 'ConfigMap');
    if (!mounted) throw new K8sError(`${file} is outside the flow's folder ${flow.info.dir}: a ConfigMap can only hold files beside or below the flow`);
    out.push({ ...mounted, text: readFileSync(file, 'utf8') });
  }
  return out;
}

/**
 * The flow's secret files: those beside or below the flow come from the flow's Secret at the
 * same paths; the others (absolute paths such as /var/run/secrets/...) the user mounts.
 */
export function secretFiles(flow: CompiledFlow): { mounted: MountedFile[]; elsewhere: string[] } {
  const mounted: MountedFile[] = [];
  const elsewhere: string[] = [];
  for (const file of flow.secretFiles) {
    const m = mountedFile(flow, file, 'Secret');
    if (m) mounted.push(m);
    else elsewhere.push(file);
  }
  return { mounted, elsewhere };
}

/** Key and path of a file beside or below the flow; undefined for a file elsewhere. */
function mountedFile(flow: CompiledFlow, file: string, holder: string): MountedFile | undefined {
  const rel = relative(flow.info.dir, file);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  const path = rel.split(sep).join('/');
  const key = path.replaceAll('/', '__');
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new K8sError(`${path}: a ${holder} key allows only letters, digits, '-', '_' and '.'`);
  if (path === 'flow.yaml') throw new K8sError(`${file} would replace the flow itself; rename it`);
  return { key, path, file };
}

/**
 * The /flow volume: the ConfigMap alone, or with secret files the ConfigMap and the Secret
 * projected into one folder, so every file is where the flow's relative paths point.
 */
function flowVolume(configMap: string, files: readonly MountedFile[], secret: string, secretFiles: readonly MountedFile[]): Record<string, unknown> {
  const items = (list: readonly MountedFile[]) => list.map((f) => ({ key: f.key, path: f.path }));
  if (secretFiles.length === 0) return { configMap: { name: configMap, items: items(files) } };
  return { projected: { sources: [{ configMap: { name: configMap, items: items(files) } }, { secret: { name: secret, items: items(secretFiles) } }] } };
}

/**
 * What the user must do for the flow's secret files, for the generator to print beside the
 * manifests (never their content: keys do not belong in generated YAML); undefined when none.
 */
export function secretInstructions(flow: CompiledFlow, namespace: string | undefined): string | undefined {
  const { mounted, elsewhere } = secretFiles(flow);
  const lines: string[] = [];
  if (mounted.length > 0) {
    const ns = namespace ? ` --namespace ${namespace}` : '';
    const from = mounted.map((f) => ` \\\n  --from-file=${f.key}=${f.file}`).join('');
    lines.push(`The Deployment mounts the flow's secret files from the Secret ${flow.info.name}${SECRET_SUFFIX}; create it with:`, `kubectl create secret generic ${flow.info.name}${SECRET_SUFFIX}${ns}${from}`);
  }
  if (elsewhere.length > 0) lines.push(`Mount these files into the pod yourself (they are outside the flow's folder): ${elsewhere.join(', ')}`);
  return lines.length ? lines.join('\n') : undefined;
}
