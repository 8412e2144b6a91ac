/**
 * JSON.parse for text a person edits or a server sends that may hold a secret (the settings file holds
 * the local API key; an org gateway's credentials answer holds AWS keys). V8's SyntaxError quotes the
 * text around the fault (`Unexpected token 'b', ..."apiKey":bb-Zq9w7L"... is not valid JSON`), so its
 * message must never be shown: this one says where, not what. A leading byte order mark (Windows
 * editors write one) is ignored.
 */
export class JsonTextError extends Error {
  override readonly name = 'JsonTextError';
}

/** ` at line L, column C` when V8 says where, else nothing. */
function whereOf(error: unknown): string {
  const match = error instanceof Error ? /\(line (\d+) column (\d+)\)/.exec(error.message) : null;
  return match ? ` at line ${match[1]}, column ${match[2]}` : '';
}

/** Parses JSON text; throws JsonTextError("not valid JSON at line L, column C") without quoting the text. */
export function parseJsonText(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new JsonTextError(`not valid JSON${whereOf(error)}`);
  }
}

/**
 * True when objects and arrays in a parsed JSON value nest deeper than `max` levels. Walks containers
 * only (never string contents) and without recursion: a value that deep would overflow the stack of
 * whatever recursive code handles it next (the AWS SDK's serialiser, JSON.stringify).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
