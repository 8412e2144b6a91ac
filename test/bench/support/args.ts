/** The bench's `--key=value` / `--flag` arguments (a flag reads as 'true'). */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  return new Map(
    argv.map((arg) => {
      const [key, value] = arg.replace(/^--/, '').split('=', 2);
      return [key!, value ?? 'true'] as const;
    }),
  );
}
