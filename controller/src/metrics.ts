import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';
import { familyName, type IpFamily } from '../../common/ip.js';
import type { CidrUsage } from './cidr-allocator.js';

export type AllocationResult = 'success' | 'exhausted' | 'conflict' | 'error';
export type ControllerOp = 'lease' | 'node_sync' | 'node_informer' | 'gossip_key';

/** The controller's metrics, all in the Registry it is given (never the default one). */
export interface ControllerMetrics {
  readonly isLeader: Gauge;
  readonly cidrAllocations: Counter<'result'>;
  readonly cidrsInUse: Gauge<'family'>;
  readonly cidrsFree: Gauge<'family'>;
  readonly nodesMissingFamily: Gauge<'family'>;
  readonly errors: Counter<'op'>;
  readonly nodeSyncDuration: Histogram;
  readonly informerRestarts: Counter;
  readonly leaseTransitions: Counter;
}

export function createControllerMetrics(registry: Registry, build: { version: string }): ControllerMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'weft_controller_build_info',
    help: 'Always 1; labels carry the controller version and Node.js version.',
    labelNames: ['version', 'node_version'],
    registers,
  }).set({ version: build.version, node_version: process.version }, 1);
  const cidrAllocations = new Counter({
    name: 'weft_controller_cidr_allocations_total',
    help: 'podCIDR allocation attempts for Nodes without one, by result (success, exhausted, conflict, error).',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['success', 'exhausted', 'conflict', 'error'] satisfies AllocationResult[]) {
    cidrAllocations.inc({ result }, 0);
  }
  return {
    isLeader: new Gauge({
      name: 'weft_controller_is_leader',
      help: '1 while this replica holds the weft-controller Lease, else 0.',
      registers,
    }),
    cidrAllocations,
    cidrsInUse: new Gauge({
      name: 'weft_controller_cidrs_in_use',
      help: 'podCIDRs of the cluster CIDRs held by Nodes (as seen by the leader).',
      labelNames: ['family'],
      registers,
    }),
    cidrsFree: new Gauge({
      name: 'weft_controller_cidrs_free',
      help: 'podCIDRs of the cluster CIDRs still free to allocate (as seen by the leader).',
      labelNames: ['family'],
      registers,
    }),
    nodesMissingFamily: new Gauge({
      name: 'weft_controller_nodes_missing_podcidr_family',
      help: 'Nodes that have a podCIDR but none of this configured family; spec.podCIDRs cannot be extended once set.',
      labelNames: ['family'],
      registers,
    }),
    errors: new Counter({
      name: 'weft_controller_errors_total',
      help: 'Failed API operations by loop (lease, node_sync, node_informer, gossip_key).',
      labelNames: ['op'],
      registers,
    }),
    nodeSyncDuration: new Histogram({
      name: 'weft_controller_node_sync_duration_seconds',
      help: 'Time to sync one Node (record or allocate + patch its podCIDR).',
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'weft_controller_node_informer_restarts_total',
      help: 'Times the Node informer stopped on an error and was started again.',
      registers,
    }),
    leaseTransitions: new Counter({
      name: 'weft_controller_leader_transitions_total',
      help: 'Times this replica became leader.',
      registers,
    }),
  };
}

/** Publishes one allocator's usage and how many Nodes lack a podCIDR of its family for good. */
export function recordCidrUsage(
  metrics: ControllerMetrics,
  family: IpFamily,
  usage: CidrUsage,
  nodesMissingFamily: number,
): void {
  const labels = { family: familyName(family) };
  metrics.cidrsInUse.set(labels, usage.inUse);
  metrics.cidrsFree.set(labels, usage.free);
  metrics.nodesMissingFamily.set(labels, nodesMissingFamily);
}
