const DEFAULT_MAX_LENGTH = 300;

/**
 * The human reason in an HTTP error answer, as one short line fit for a terminal or the window:
 * `{"error":{"message"}}`, OAuth's `error_description`, `message` or `reason` from JSON, else a plain-text body.
 * Null when there is none: a bare OAuth error code is no message, nor is an HTML error page.
 */
export async function errorBodyReason(response: Response, maxLength: number = DEFAULT_MAX_LENGTH): Promise<string | null> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return null;
  }
  const type = response.headers.get('content-type') ?? '';
  let reason: unknown = null;
  if (/json/i.test(type)) {
    try {
      const body = JSON.parse(text) as Record<string, unknown> | null;
      const error = body?.error;
      const nested = error && typeof error === 'object' ? (error as Record<string, unknown>).message : undefined;
      reason = nested ?? body?.error_description ?? body?.message ?? body?.reason;
    } catch {
      return null;
    }
  } else if (!/html|xml/i.test(type)) {
    reason = text;
  }
  if (typeof reason !== 'string') return null;
  // Control characters (an escape sequence from a hostile body) would reach the user's terminal.
  const line = reason.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (!line) return null;
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}
