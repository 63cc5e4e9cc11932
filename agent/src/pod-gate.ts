import { WeftError } from '../../common/errors.js';

/** A pod of this node as CNI ADD knows it: which attachment, which pod, which addresses. */
export interface GatedPod {
  /** The attachment's key, `<containerId>/<ifname>` (what DEL and GC name). */
  readonly attachment: string;
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
}

/**
 * What CNI ADD waits on before it returns (ADR 13 point 3): the pod's network
 * policy verdict in the kernel. `admit` resolves once it is, and rejects with a
 * PodGateError when it cannot be yet (ADD answers "try again later").
 * `forget` drops what `admit` registered, when the address is released.
 */
export interface PodGate {
  admit(pod: GatedPod): Promise<void>;
  forget(attachment: string): void;
}

/** Why a pod cannot be admitted yet; `message` is short, `details` names the pod and the cause. */
export class PodGateError extends WeftError {
  readonly details: string;
  constructor(code: string, message: string, details: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.details = details;
  }
}

/** The gate when network policy is off: every pod passes at once. */
export const OPEN_POD_GATE: PodGate = {
  admit: () => Promise.resolve(),
  forget: () => undefined,
};
