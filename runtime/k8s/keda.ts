/**
 * Scaling for queue-triggered flows: a CPU autoscaler reacts late to a backlog, so a flow that
 * consumes a queue gets a KEDA ScaledObject on the queue's length instead (KEDA is how
 * Kubernetes users scale consumers). KEDA reads the broker with its own scalers:
 * - amqp: the `rabbitmq` scaler on the trigger's queue (QueueLength per replica);
 * - nats: the `nats-jetstream` scaler on the stream and durable consumer (lag per replica),
 *   through the NATS monitoring endpoint (default: the server's host on port 8222);
 * - mqtt: KEDA has no MQTT scaler, so those flows keep the CPU autoscaler.
 */
import { parseDocument } from 'yaml';
import type { Manifest } from './manifests.ts';

export interface KedaOptions {
  /** Messages waiting per replica that KEDA aims at. */
  queueTarget: number;
  /** NATS monitoring endpoint host:port, when not the server's host on 8222. */
  natsMonitoring?: string;
}

export const DEFAULT_QUEUE_TARGET = 20;

interface Scaling {
  min: number;
  max: number;
  name: string;
  metadata: (suffix?: string) => Manifest['metadata'];
}

const ENV_ONLY = /^\$\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\s*\}$/;

/**
 * The trigger's url as written in the flow file: `${env.X}` there means the pods get it from
 * their environment, so KEDA should read it from there too (hostFromEnv) rather than have the
 * resolved value, credentials included, copied into the manifest.
 */
function writtenUrl(flowSource: string, kind: string): string | undefined {
  const value = parseDocument(flowSource).getIn(['trigger', kind, 'url']);
  return typeof value === 'string' ? value : undefined;
}

/** The ScaledObject for a queue-triggered flow, or undefined when KEDA cannot scale its trigger. */
export function scaledObject(
  kind: string,
  trigger: Record<string, unknown>,
  flowSource: string,
  scaling: Scaling,
  options: KedaOptions,
): Manifest | undefined {
  const target = String(options.queueTarget);
  let scaler: Record<string, unknown>;
  if (kind === 'amqp') {
    const written = writtenUrl(flowSource, kind) ?? '';
    const fromEnv = ENV_ONLY.exec(written)?.[1];
    scaler = {
      type: 'rabbitmq',
      metadata: {
        protocol: 'amqp',
        queueName: String(trigger.queue),
        mode: 'QueueLength',
        value: target,
        ...(fromEnv ? { hostFromEnv: fromEnv } : { host: String(trigger.url) }),
      },
    };
  } else if (kind === 'nats') {
    const server = new URL(String(trigger.url).replace(/^nats:/, 'http:'));
    scaler = {
      type: 'nats-jetstream',
      metadata: {
        natsServerMonitoringEndpoint: options.natsMonitoring ?? `${server.hostname}:8222`,
        account: '$G',
        stream: String(trigger.stream),
        consumer: String(trigger.durable ?? scaling.name),
        lagThreshold: target,
      },
    };
  } else {
    return undefined;
  }
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: scaling.metadata(),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: scaling.name },
      minReplicaCount: scaling.min,
      maxReplicaCount: scaling.max,
      triggers: [scaler],
    },
  };
}
