import { WeftError } from '../../common/errors.js';

/** Invalid controller configuration: names the field (env var or net-conf key) and the value found. */
export class ControllerConfigError extends WeftError {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, reason: string) {
    super('ECONFIG', `invalid ${field}=${formatValue(value)}: ${reason}`);
    this.field = field;
    this.value = value;
  }
}

function formatValue(value: unknown): string {
  if (value === undefined) return '<unset>';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
