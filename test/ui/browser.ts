import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildRenderer } from '../../scripts/renderer-build.ts';
import { ARTIFACTS } from '../support/chromium.ts';

/** The window's size in the desktop app. */
export const WINDOW = { width: 420, height: 640 };

let built: Promise<unknown> | null = null;
/** serve answers /ui/ from dist/renderer: build it once per test process, from the sources under test. */
export function buildUiOnce(): Promise<unknown> {
  built ??= buildRenderer();
  return built;
}

/** The one-time link `serve` prints to open the window in a browser. */
export function uiLinkOf(output: string): string {
  const link = /(http:\/\/\S+\/ui\/\?token=[\w-]+)/.exec(output)?.[1];
  if (!link) throw new Error(`serve printed no UI link:\n${output}`);
  return link;
}

export interface UiPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and CSP violations seen on the page: a test asserts this stays empty. */
  problems: string[];
}

/** A fresh browser profile at the window's size, opened through a one-time link. */
export async function openUi(browser: Browser, link: string, colorScheme: 'light' | 'dark' = 'light'): Promise<UiPage> {
  const context = await browser.newContext({ viewport: WINDOW, colorScheme });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  await page.goto(link);
  await page.waitForSelector('#state[data-level]');
  return { context, page, problems };
}

/** Saves a screenshot under test/artifacts/ (git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
