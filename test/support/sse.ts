/** Reads an SSE response body into its `data:` payloads (strings, `[DONE]` included). */
export async function readSse(response: Response): Promise<string[]> {
  const text = await response.text();
  return parseSse(text);
}

export function parseSse(text: string): string[] {
  const events: string[] = [];
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data !== '') events.push(data);
  }
  return events;
}

export interface SseReader {
  /** Waits for the next chunk of the body; false once the body has ended. */
  next(): Promise<boolean>;
  /** Reads to the end: the `data:` payloads of everything read, and whether the connection was cut first. */
  rest(): Promise<{ events: string[]; cut: boolean }>;
}

/** Reads an SSE response as it arrives, for tests that act between chunks (shutdown while streaming). */
export function sseReader(response: Response): SseReader {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const next = async () => {
    const { done, value } = await reader.read();
    if (!done) text += decoder.decode(value, { stream: true });
    return !done;
  };
  return {
    next,
    async rest() {
      try {
        while (await next());
        return { events: parseSse(text), cut: false };
      } catch {
        return { events: parseSse(text), cut: true };
      }
    },
  };
}
