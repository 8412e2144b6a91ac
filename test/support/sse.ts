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
