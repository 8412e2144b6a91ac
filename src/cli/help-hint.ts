/** A command-line mistake (unknown option, missing value) as node:util's parseArgs reports it. */
export function isArgsError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** The line after such a mistake: where the command's options are listed. */
export function helpHint(command: string): string {
  return `Run "bedrock-bridge ${command} --help" for its options.`;
}
