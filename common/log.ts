import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Creates the process's root logger: JSON lines on stderr (stdout stays clean for
 * CLI output). Components take `log.child({ component: 'x' })`.
 * Fixed field names: node, peer, cidr, dev, op, durationMs, err.
 */
export function createLogger(name: string, level = process.env.WEFT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
