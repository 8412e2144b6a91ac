import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), for every browser test and
 * bench. Without it they are skipped, saying why, unless REQUIRE_CHROMIUM=1 (CI), where a missing
 * browser fails them. CHROMIUM_PATH points elsewhere.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Where browser tests leave their screenshots (git-ignored), to be looked at. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `skip` option for node:test: a reason when the browser is missing (and not required), else false; throws when required and missing. */
export function chromiumSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  const path = chromiumPath(env);
  if (existsSync(path)) return false;
  if (env.REQUIRE_CHROMIUM === '1') throw new Error(`REQUIRE_CHROMIUM=1 but ${path} is missing (apt-get install chromium, or set CHROMIUM_PATH)`);
  return `${path} is missing: apt-get install chromium to run the browser tests (REQUIRE_CHROMIUM=1 makes this a failure)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ARGS });
}
