import { formatHostPort } from '../../../common/ip.js';
import type { NetConf } from '../config/net-conf.js';
import { OPEN_POD_GATE, type PodGate, PodGateError } from '../pod-gate.js';
import type { AgentRuntime } from '../runtime.js';
import { PolicyEngine } from './engine.js';
import { EnginePodGate } from './gate.js';
import { PolicyMetrics } from './metrics.js';
import { POLICY_PATH, policyHandler } from './report-route.js';
import { PolicyStore } from './store.js';
import { runPolicyWatchers } from './watcher.js';

/** What network policy uses of the agent runtime. */
export type PolicyRuntime = Pick<
  AgentRuntime,
  'opts' | 'netConf' | 'log' | 'registry' | 'loop' | 'datapath' | 'kube' | 'signal' | 'http' | 'store'
>;

export interface PolicyExtension {
  start(rt: PolicyRuntime): Promise<void>;
  /** The engine once started (for the status API and `weft policy`). */
  engine(): PolicyEngine | undefined;
  /** What CNI ADD waits on: open when networkPolicy is off, else the engine's gate once it runs. */
  podGate(netConf: NetConf): PodGate;
}

/**
 * NetworkPolicy in the agent (ADR 12): watchers for Pods, Namespaces and
 * NetworkPolicies, the engine compiling them for this node, the datapath
 * applying the result in table inet weft. Off when net-conf says networkPolicy: false.
 */
export function createPolicyExtension(): PolicyExtension {
  let engine: PolicyEngine | undefined;
  let gate: EnginePodGate | undefined;
  let policyStore: PolicyStore | undefined;
  const notStarted = () =>
    new PodGateError(
      'EPOLICYNOTSYNCED',
      'network policy not synced',
      'the policy engine has not started yet',
    );
  return {
    engine: () => engine,
    podGate: (netConf) =>
      netConf.networkPolicy
        ? {
            admit: (pod) => (gate ? gate.admit(pod) : Promise.reject(notStarted())),
            forget: (attachment) => gate?.forget(attachment),
          }
        : OPEN_POD_GATE,
    async start(rt) {
      rt.http.addRoute(
        POLICY_PATH,
        policyHandler({
          nodeName: rt.opts.nodeName,
          engine: () => engine,
          store: () => policyStore,
          agentAddr: (node) => {
            const peer = rt.store.view().peers.find((p) => p.name === node);
            return peer && `http://${formatHostPort(peer.underlayIP, rt.opts.httpPort)}`;
          },
        }),
      );
      if (!rt.netConf.networkPolicy) return;
      const log = rt.log.child({ component: 'policy' });
      const store = new PolicyStore();
      policyStore = store;
      const metrics = new PolicyMetrics(rt.registry, () => rt.datapath.readPolicyDrops());
      const sctp = await rt.datapath.canMatchSctp();
      if (!sctp)
        log.warn({ op: 'probe' }, 'this kernel cannot match SCTP: SCTP ports in policies allow nothing');
      engine = new PolicyEngine({
        nodeName: rt.opts.nodeName,
        store,
        setPolicy: (content) => rt.datapath.setPolicy(content),
        loop: rt.loop,
        metrics,
        log,
        sctp,
      });
      gate = new EnginePodGate({ engine, store, signal: rt.signal });
      await Promise.all([
        engine.run(rt.signal),
        runPolicyWatchers({ store, log, client: rt.kube }, rt.signal),
      ]);
    },
  };
}
