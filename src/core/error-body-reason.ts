import { printable } from './client-text.ts';

const DEFAULT_MAX_LENGTH = 300;

/** An OAuth-style error code (`access_denied`, `invalid_grant`): a name for programs, no message for people. */
const ERROR_CODE = /^[A-Za-z0-9_.:-]+$/;

function reasonInJson(body: Record<string, unknown> | null): unknown {
  const error = body?.error;
  if (error && typeof error === 'object') return (error as Record<string, unknown>).message;
  const bareError = typeof error === 'string' && !ERROR_CODE.test(error.trim()) ? error : undefined;
  return body?.error_description ?? body?.message ?? body?.reason ?? bareError;
}

/**
 * The human reason in an HTTP error answer, as one short line fit for a terminal or the window:
 * `{"error":{"message"}}`, OAuth's `error_description`, `message`, `reason` or a sentence in `error` from
 * JSON (whatever the content type says), else a plain-text body.
 * Null when there is none: a bare error code is no message, nor is an HTML or XML error page.
 */
export async function errorBodyReason(response: Response, maxLength: number = DEFAULT_MAX_LENGTH): Promise<string | null> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return null;
  }
  const type = response.headers.get('content-type') ?? '';
  const declaredJson = /json/i.test(type);
  let reason: unknown = null;
  if (declaredJson || text.trimStart().startsWith('{')) {
    try {
      reason = reasonInJson(JSON.parse(text) as Record<string, unknown> | null);
    } catch {
      if (declaredJson) return null;
      reason = text;
    }
  } else if (!/html|xml/i.test(type)) {
    reason = text;
  }
  if (typeof reason !== 'string') return null;
  // One line; what control characters remain (an escape sequence from a hostile body) is made visible.
  const line = reason.replace(/\s+/g, ' ').trim();
  if (!line) return null;
  return printable(line, maxLength);
}
