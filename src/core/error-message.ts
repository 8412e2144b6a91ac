/** An error's message for a person to read; anything thrown that is not an Error, as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
