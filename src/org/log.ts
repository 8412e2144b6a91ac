/**
 * Structured logs: one JSON object per line. Callers pass named fields; nothing here reads headers or
 * bodies, so tokens and credentials cannot reach a line unless a caller puts them in one — none does.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export type OrgLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): OrgLogger {
  return (level, message, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  };
}
