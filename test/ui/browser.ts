import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildRenderer } from '../../scripts/renderer-build.ts';

/**
 * The window's UI in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
 * browser). Without /usr/bin/chromium the browser tests are skipped, saying why, unless
 * REQUIRE_CHROMIUM=1 (CI), where a missing browser fails them.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
/** The window's size in the desktop app. */
export const WINDOW = { width: 420, height: 640 };

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `skip` option for node:test: a reason when the browser is missing (and not required), else false. */
export function chromiumSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is missing (apt-get install chromium)`);
  return `${CHROMIUM} is missing: apt-get install chromium to run the browser tests (REQUIRE_CHROMIUM=1 makes this a failure)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

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
