/**
 * Draws the tray menu of each state (and the window while nothing listens) as the user would see it (an HTML rendering of the template,
 * screenshotted in Debian's chromium) into test/artifacts/tray-menu-<state>.png, to be looked at.
 * The assertions are on the rendered page: what a user reads, not the template.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { trayIconFile } from '../../src/main/tray-icon.ts';
import { type TrayMenuItem, trayIconState, trayMenu, trayTooltip } from '../../src/main/tray-menu.ts';
import { notServingPage } from '../../src/main/window-policy.ts';
import { ARTIFACTS, chromiumSkip, launchChromium } from '../support/chromium.ts';
import { STATES } from './app-states.ts';

const ICONS = new URL('../../build/tray/', import.meta.url).pathname;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function itemsHtml(items: TrayMenuItem[]): string {
  return items
    .map((item) => {
      if (item.type === 'separator') return '<li class="sep"></li>';
      const mark = item.type === 'radio' ? (item.checked ? '●' : '') : item.type === 'checkbox' ? (item.checked ? '✓' : '') : '';
      const classes = [item.enabled === false ? 'disabled' : '', item.type === 'submenu' ? 'sub' : ''].join(' ');
      const submenu = item.submenu ? `<ul class="menu nested">${itemsHtml(item.submenu)}</ul>` : '';
      return `<li class="${classes}"><span class="mark">${mark}</span>${escape(item.label ?? '')}${item.type === 'submenu' ? '<span class="arrow">▸</span>' : ''}${submenu}</li>`;
    })
    .join('');
}

function page(name: string, startAtLogin: boolean): string {
  const state = STATES[name as keyof typeof STATES];
  const icon = readFileSync(trayIconFile(ICONS, trayIconState(state), 'linux')).toString('base64');
  return `<!doctype html><meta charset="utf-8"><style>
    body { font: 13px system-ui, sans-serif; margin: 12px; background: #e8e8e8; width: 760px; }
    .bar { display: flex; gap: 8px; align-items: center; background: #2b2b2b; color: #eee; padding: 4px 8px; width: 330px; }
    .tip { white-space: pre; background: #ffffe1; border: 1px solid #999; padding: 4px 6px; margin: 6px 0; width: max-content; }
    .menu { list-style: none; margin: 0; padding: 4px 0; background: #fff; border: 1px solid #aaa; box-shadow: 2px 2px 6px #0003; width: 330px; }
    .menu li { padding: 4px 12px 4px 4px; position: relative; }
    .menu li.sep { border-top: 1px solid #ddd; margin: 4px 0; padding: 0; }
    .menu li.disabled { color: #999; }
    .mark { display: inline-block; width: 18px; text-align: center; }
    .arrow { position: absolute; right: 8px; }
    .nested { position: absolute; left: 332px; top: -5px; width: 400px; }
  </style><div class="bar"><img src="data:image/png;base64,${icon}" width="22" height="22"><span>${escape(name)}</span></div>
  <div class="tip">${escape(trayTooltip(state))}</div>
  <ul class="menu">${itemsHtml(trayMenu({ state, startAtLogin }))}</ul>`;
}

describe('tray menu pictures', { skip: chromiumSkip() }, () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it('the window while nothing listens (port in use)', async () => {
    const tab = await browser.newPage({ viewport: { width: 420, height: 640 } });
    try {
      await tab.goto(notServingPage(STATES['port-in-use']));
      assert.equal(await tab.locator('h1').textContent(), 'Port 8741 is in use');
      await tab.screenshot({ path: `${ARTIFACTS}window-not-serving.png` });
    } finally {
      await tab.close();
    }
  });

  for (const name of Object.keys(STATES).filter((state) => state !== 'stopped')) {
    it(name, async () => {
      const tab = await browser.newPage({ viewport: { width: 800, height: 520 } });
      try {
        await tab.setContent(page(name, name === 'serving'));
        const lines = await tab.locator('.menu:not(.nested) > li:not(.sep)').evaluateAll((items) => items.map((item) => item.firstChild?.nextSibling?.textContent ?? ''));
        assert.equal(lines[0], 'Open Bedrock Bridge');
        assert.equal(lines.at(-1), 'Quit Bedrock Bridge');
        assert.equal(await tab.locator('.menu:not(.nested) > li').nth(1).getAttribute('class'), 'disabled ');
        await tab.screenshot({ path: `${ARTIFACTS}tray-menu-${name}.png` });
      } finally {
        await tab.close();
      }
    });
  }
});
