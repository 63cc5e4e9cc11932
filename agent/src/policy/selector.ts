import type { LabelSelector, Labels } from './types.js';

/** The empty selector: matches everything. */
export const EVERYTHING: LabelSelector = { matchLabels: {}, matchExpressions: [] };

/**
 * Kubernetes label-selector semantics: every matchLabels pair and every
 * expression must hold (In: present with one of the values; NotIn: absent or
 * none of them; Exists; DoesNotExist). The empty selector matches all.
 */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
