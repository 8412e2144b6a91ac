/** How this launch should start: `--hidden` (tray only: start at login, or a user who wants no window). */
export const HIDDEN_FLAG = '--hidden';
/** `--emulator`: serve the built-in Bedrock emulator (try the app without an AWS account), as `serve --emulator`. */
export const EMULATOR_FLAG = '--emulator';

export function startsHidden(argv: readonly string[], openedAtLogin: boolean): boolean {
  return openedAtLogin || argv.includes(HIDDEN_FLAG);
}
