/**
 * Rows from the JUnit report ginkgo v2 writes for the e2e suite (pure): one per testcase,
 * with its state folded to passed / failed / skipped, its duration and the failure or
 * skip message. Reads both the e2e framework's junit_01.xml (failure text only in the
 * element body) and ginkgo's own --junit-report (also in the message attribute).
 */
import { ConformanceError, specName } from './selections.js';
import { findAll, parseXml, type XmlElement } from './xml.js';

export type SpecState = 'passed' | 'failed' | 'skipped';

export interface JunitRow {
  /** The spec's full text without ginkgo's "[It] " prefix; suite nodes keep theirs, e.g. "[SynchronizedBeforeSuite]". */
  name: string;
  /** False for suite-level nodes (BeforeSuite, AfterSuite, ReportAfterSuite). */
  isSpec: boolean;
  state: SpecState;
  /** Ginkgo's own state: passed, failed, skipped, pending, panicked, interrupted, aborted, timedout. */
  status: string;
  durationSeconds: number;
  /** Failure text, or the reason a spec skipped itself; absent when there is none. */
  message?: string;
}

const FAILED = new Set(['failed', 'panicked', 'interrupted', 'aborted', 'timedout']);
const SKIPPED = new Set(['skipped', 'pending']);

function stateOf(status: string, tc: XmlElement): SpecState {
  if (status === 'passed') return 'passed';
  if (FAILED.has(status)) return 'failed';
  if (SKIPPED.has(status)) return 'skipped';
  if (status !== '')
    throw new ConformanceError('EJUNIT', `testcase ${tc.attrs.name}: unknown status ${status}`);
  // Reports without a status attribute: the child elements say it.
  if (tc.children.some((c) => c.name === 'failure' || c.name === 'error')) return 'failed';
  if (tc.children.some((c) => c.name === 'skipped')) return 'skipped';
  return 'passed';
}

// Ginkgo colours some failure texts (parallel BeforeSuite failures) even with --no-color;
// Go's encoding/xml writes the ESC it cannot encode as U+FFFD.
const ANSI = new RegExp(`[${String.fromCharCode(27)}\uFFFD]\\[[0-9;]*m`, 'g');

function messageOf(tc: XmlElement, state: SpecState): string | undefined {
  if (state === 'failed') {
    const f = tc.children.find((c) => c.name === 'failure' || c.name === 'error');
    const text = ((f?.text.trim() || f?.attrs.message?.trim()) ?? '').replace(ANSI, '');
    return text === '' ? undefined : text;
  }
  if (state === 'skipped') {
    // "skipped" when filtered out, "pending", or "skipped - <reason>" after Skip(reason).
    const m = tc.children.find((c) => c.name === 'skipped')?.attrs.message ?? '';
    const reason = m.replace(/^skipped( - )?/, '').trim();
    return reason === '' ? undefined : reason;
  }
  return undefined;
}

/** Parses a JUnit XML report into rows in document order; throws ConformanceError when malformed. */
export function parseJunitReport(xml: string): JunitRow[] {
  const root = parseXml(xml);
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new ConformanceError('EJUNIT', `JUnit report: root element is <${root.name}>`);
  }
  return findAll(root, 'testcase').map((tc) => {
    const rawName = tc.attrs.name;
    if (rawName === undefined || rawName === '')
      throw new ConformanceError('EJUNIT', 'testcase without a name');
    const status = tc.attrs.status ?? '';
    const state = stateOf(status, tc);
    const durationSeconds = Number(tc.attrs.time ?? '0');
    if (!Number.isFinite(durationSeconds)) {
      throw new ConformanceError('EJUNIT', `testcase ${rawName}: time ${tc.attrs.time} is not a number`);
    }
    const isSpec = rawName.startsWith('[It] ');
    const row: JunitRow = {
      name: specName(isSpec ? rawName.slice(5) : rawName),
      isSpec,
      state,
      status: status || state,
      durationSeconds,
    };
    const message = messageOf(tc, state);
    if (message !== undefined) row.message = message;
    return row;
  });
}
