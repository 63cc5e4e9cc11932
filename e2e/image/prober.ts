/**
 * HTTP probes polled as the kubelet does: every periodSeconds, success = status 200–399
 * within timeoutSeconds; a readiness probe turns the pod unready after failureThreshold
 * consecutive failures and ready on one success; a liveness probe that fails
 * failureThreshold times in a row asks for a restart.
 */
import { sleep } from '../../common/backoff.js';
import type { HttpProbe } from './daemonset-spec.js';

export interface ProbeState {
  readonly ready: boolean;
  readonly consecutiveFailures: number;
  readonly successes: number;
  readonly failures: number;
  readonly lastStatus: number;
}

export const INITIAL_PROBE_STATE: ProbeState = {
  ready: false,
  consecutiveFailures: 0,
  successes: 0,
  failures: 0,
  lastStatus: 0,
};

export function isProbeSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

/** The next state after one probe answered `status` (0 = no answer) (pure). */
export function nextProbeState(s: ProbeState, status: number, failureThreshold: number): ProbeState {
  if (isProbeSuccess(status)) {
    return {
      ready: true,
      consecutiveFailures: 0,
      successes: s.successes + 1,
      failures: s.failures,
      lastStatus: status,
    };
  }
  const consecutiveFailures = s.consecutiveFailures + 1;
  return {
    ready: s.ready && consecutiveFailures < failureThreshold,
    consecutiveFailures,
    successes: s.successes,
    failures: s.failures + 1,
    lastStatus: status,
  };
}

/** Polls `get` (an HTTP GET of the probe URL resolving to its status) until `signal` aborts. */
export class ProbeLoop {
  private current: ProbeState = INITIAL_PROBE_STATE;

  constructor(
    private readonly probe: HttpProbe,
    private readonly get: (url: string, timeoutSeconds: number) => Promise<number>,
    private readonly onFailureThreshold: () => void = () => {},
  ) {}

  get state(): ProbeState {
    return this.current;
  }

  get url(): string {
    return `http://${this.probe.host}:${this.probe.port}${this.probe.path}`;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const status = await this.get(this.url, this.probe.timeoutSeconds).catch(() => 0);
      if (signal.aborted) return;
      this.current = nextProbeState(this.current, status, this.probe.failureThreshold);
      if (this.current.consecutiveFailures === this.probe.failureThreshold) this.onFailureThreshold();
      await sleep(this.probe.periodSeconds * 1000, signal).catch(() => undefined);
    }
  }
}
