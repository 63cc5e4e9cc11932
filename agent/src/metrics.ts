import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * The agent's own Registry: Node process metrics (prefixed as prom-client does:
 * process_*, nodejs_*) and weft_build_info{version}. Components register their
 * metrics on it; the prom-client default registry is never used.
 */
export function createAgentRegistry(version: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({
    name: 'weft_build_info',
    help: 'Always 1; the version label carries the agent version.',
    labelNames: ['version'],
    registers: [registry],
  });
  info.set({ version }, 1);
  return registry;
}

/** The agent version: WEFT_VERSION, else the version in the nearest package.json above this file. */
export function readAgentVersion(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEFT_VERSION) return env.WEFT_VERSION;
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'weft' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
  }
  return 'unknown';
}
