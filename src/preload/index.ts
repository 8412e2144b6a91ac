/**
 * The window's preload (bundled to CommonJS: sandboxed preloads cannot be ES modules). The window
 * talks to the app only over the control API, so no IPC channel exists; the page merely learns that
 * it runs inside the desktop app (e.g. to offer "Start at login").
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('bedrockBridgeDesktop', Object.freeze({ platform: process.platform }));
