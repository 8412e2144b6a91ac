/** The tray icon's look for each state, and which file each platform gets (drawn by scripts/icons.ts). */
import path from 'node:path';

export const TRAY_ICON_STATES = ['serving', 'sign-in', 'error', 'starting'] as const;
export type TrayIconState = (typeof TRAY_ICON_STATES)[number];

/**
 * macOS: a template image (the base name ends in `Template`; Electron picks the @2x sibling itself).
 * Windows: an .ico with every small size. Linux: one PNG, the 32 px one, which reads well at the usual
 * panel scales (Linux trays take no scale factor).
 */
export function trayIconFile(iconDir: string, state: TrayIconState, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return path.join(iconDir, `${state}Template.png`);
  if (platform === 'win32') return path.join(iconDir, `${state}.ico`);
  return path.join(iconDir, `${state}@2x.png`);
}
