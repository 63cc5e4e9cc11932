import { WeftError } from '../../../common/errors.js';

/** Invalid agent configuration: names the field at fault and the value found there. */
export class ConfigError extends WeftError {
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
  try {
    const text = JSON.stringify(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
