import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromiumSkip } from '../support/chromium.ts';

// Every browser test and bench (test/ui, test/org/admin-page, test/main/pictures, the ui bench) asks this one helper.
test('a missing Chromium skips the browser tests, saying why, unless REQUIRE_CHROMIUM=1 makes it a failure', () => {
  const missing = '/nonexistent/chromium';
  assert.match(String(chromiumSkip({ CHROMIUM_PATH: missing })), /\/nonexistent\/chromium is missing: apt-get install chromium/);
  assert.throws(() => chromiumSkip({ CHROMIUM_PATH: missing, REQUIRE_CHROMIUM: '1' }), /REQUIRE_CHROMIUM=1 but \/nonexistent\/chromium is missing/);
  assert.equal(chromiumSkip({ CHROMIUM_PATH: process.execPath, REQUIRE_CHROMIUM: '1' }), false, 'a browser that is there runs them');
});
