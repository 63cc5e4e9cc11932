/** HTTP status of a failed API call (client-node's ApiException carries it as `code`). */
export function apiStatusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatusCode(err) === 404;
/** 409: a resourceVersion precondition failed, or (on create) the object already exists. */
export const isConflict = (err: unknown): boolean => apiStatusCode(err) === 409;
/** 422: the API server refused the change (e.g. spec.podCIDR is already set and immutable). */
export const isInvalid = (err: unknown): boolean => apiStatusCode(err) === 422;

/** A short form of an API error for log lines (ApiException messages embed headers). */
export function apiErrorSummary(err: unknown): string {
  const status = apiStatusCode(err);
  const body = (err as { body?: unknown } | null)?.body;
  let reason: string | undefined;
  if (typeof body === 'string') {
    try {
      reason = (JSON.parse(body) as { message?: string }).message;
    } catch {
      reason = body.slice(0, 200);
    }
  } else if (typeof body === 'object' && body !== null) {
    reason = (body as { message?: string }).message;
  }
  if (status !== undefined) return `HTTP ${status}${reason ? `: ${reason}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
