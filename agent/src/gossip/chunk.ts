import type { NodeRecord } from './record.js';
import type { Bump, Delta } from './state.js';

/**
 * Splits a delta into pieces whose encoded size stays under `budgetBytes`, so
 * that a node that knows nothing yet can be sent a large state in several
 * frames. Always returns at least one (possibly empty) piece.
 */
export function chunkDelta(delta: Delta, budgetBytes: number): Delta[] {
  const pieces: Delta[] = [];
  let records: NodeRecord[] = [];
  let bumps: Bump[] = [];
  let size = 0;
  const flush = (): void => {
    pieces.push({ records, bumps });
    records = [];
    bumps = [];
    size = 0;
  };
  for (const r of delta.records) {
    const n = JSON.stringify(r).length + 1;
    if (size + n > budgetBytes && size > 0) flush();
    records.push(r);
    size += n;
  }
  for (const b of delta.bumps) {
    const n = b.name.length + 40;
    if (size + n > budgetBytes && size > 0) flush();
    bumps.push(b);
    size += n;
  }
  if (records.length > 0 || bumps.length > 0 || pieces.length === 0) flush();
  return pieces;
}
