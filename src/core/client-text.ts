/**
 * Strings a client chose (model names, User-Agent, paths, tool names, error reasons) on their way into
 * events, records, logs and terminals: bounded in length where they are kept, and with control
 * characters made visible where they are printed, so a client cannot forge log lines, rewrite a
 * terminal with escape sequences or reorder text with bidi overrides.
 */

/** The longest client strings kept in request events and usage records. */
export const CLIENT_TEXT_LIMITS = {
  userAgent: 256,
  /** Model ids, aliases and ARNs (application inference profile ARNs run to ~150 characters). */
  model: 2048,
  route: 1024,
} as const;

/**
 * C0 controls (newline and tab included), DEL, C1 controls (0x9b is a one-byte CSI), the Unicode line
 * and paragraph separators, and the bidi marks, embeddings, overrides and isolates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(character: string): string {
  const named = NAMED[character];
  if (named) return named;
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control, separator and bidi character written as a visible escape (`\n`, `\x1b`, `\u202e`). */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** At most `max` UTF-16 units, never cutting a surrogate pair in half. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}

/** clipText for optional values. */
export function clipOptional(text: string | null, max: number): string | null {
  return text === null ? null : clipText(text, max);
}

/** A client string fit for one line of a log or terminal: escaped, then cut to `max` with an ellipsis. */
export function printable(text: string, max = 200): string {
  const escaped = escapeControlCharacters(text);
  return escaped.length > max ? `${clipText(escaped, max - 1)}…` : escaped;
}
