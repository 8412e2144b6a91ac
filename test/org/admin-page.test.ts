import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { AuditStore } from '../../src/org/audit-store.ts';
import { parseOrgConfig } from '../../src/org/config.ts';
import { CredentialBroker } from '../../src/org/credential-broker.ts';
import { openPglite } from '../../src/org/database.ts';
import { createOrgGatewayApp } from '../../src/org/gateway-app.ts';
import { TokenVerifier } from '../../src/org/token-verifier.ts';
import { startTestIdp, type TestIdp } from '../credentials/oidc-helpers.ts';
import { chromiumSkip, launchChromium } from '../support/chromium.ts';
import { wireRecord } from './support.ts';

/**
 * The admin page in a real browser (Debian's Chromium through playwright-core): OIDC sign-in at a real
 * IdP (authorization code + PKCE), admins by group, month totals, budgets and a per-user drill-down.
 */
const chromiumMissing = chromiumSkip();
const AUDIENCE = 'urn:bedrock-bridge:gateway';
const SCREENSHOT = process.env.ORG_ADMIN_SCREENSHOT ?? null;

let idp: TestIdp;
let store: AuditStore;
let browser: Browser;
let gatewayUrl: string;
let server: ReturnType<typeof createServer>;

before(async () => {
  if (chromiumMissing) return;
  // The gateway's URL must be known to register the redirect URI: listen first, wire the app after.
  let handler: (req: IncomingMessage, res: ServerResponse) => unknown = (_req, res) => res.writeHead(503).end();
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp = await startTestIdp({
    jwtAudience: AUDIENCE,
    groups: { root: ['bedrock-admins'], alice: ['eng'], bob: ['eng'], carl: ['contractors'] },
    webClient: { clientId: 'bedrock-bridge-admin', redirectUri: `${gatewayUrl}/admin/callback` },
  });
  store = await AuditStore.open(await openPglite('memory://'));
  const config = parseOrgConfig({
    publicUrl: gatewayUrl,
    oidc: { issuer: idp.issuer, clientId: idp.clientId, audience: AUDIENCE },
    aws: { region: 'us-east-1', roleArn: 'arn:aws:iam::111122223333:role/BedrockBridgeUser' },
    entitlement: { rules: [{ groups: ['eng'], monthlyBudgetUsd: 10 }, { groups: ['contractors'], monthlyBudgetUsd: 5 }], groupBudgetsUsd: { contractors: 50 } },
    admin: { groups: ['bedrock-admins'], clientId: 'bedrock-bridge-admin' },
  });
  const app = createOrgGatewayApp({ config, store, verifier: new TokenVerifier(config.oidc), broker: new CredentialBroker(config.aws), log: () => {} });
  handler = getRequestListener(app.fetch);

  const month = new Date().toISOString().slice(0, 8);
  const day = (d: number) => `${month}${String(Math.min(d, new Date().getUTCDate())).padStart(2, '0')}T12:00:00.000Z`;
  const filed = (user: string, groups: string[], records: ReturnType<typeof wireRecord>[]) => store.ingest({ user, groups, method: 'oidc' }, { name: 'bedrock-bridge' }, records);
  await filed('alice', ['eng'], [1, 2, 2, 3, 5].map((d, i) => wireRecord({ started_at: day(d), cost_usd: 1.5 + i, model_id: i % 2 ? 'anthropic.claude-3-5-haiku-20241022-v1:0' : 'anthropic.claude-sonnet-4-20250514-v1:0', client: 'claude-cli/1.0.0' })));
  await filed('bob', ['eng'], [1, 4].map((d) => wireRecord({ started_at: day(d), cost_usd: 0.4, client: 'codex_cli_rs/0.1' })));
  await filed('carl', ['contractors'], [2, 3].map((d) => wireRecord({ started_at: day(d), cost_usd: 2.1, client: '=HYPERLINK("http://evil")' })));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await store?.close();
  await idp?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** Goes to /admin and signs in at the IdP's own pages as `login`. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(`${gatewayUrl}/admin`);
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any');
  await page.click('button[type="submit"]');
  // The IdP asks for consent once per client.
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  if (await consent.count().catch(() => 0)) await consent.first().click();
  await page.waitForLoadState('networkidle');
}

test('an admin signs in with the IdP and sees spend per person with budgets, and drills down into one person', { skip: chromiumMissing, timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    await signIn(page, 'root');
    assert.equal(new URL(page.url()).pathname, '/admin');
    await page.waitForSelector('#users tbody tr.clickable');
    assert.equal(await page.textContent('#who'), 'Signed in as root');
    assert.equal(await page.textContent('#total-cost'), '$22.50');
    const rows = await page.$$eval('#users tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(rows, [
      ['alice', 'eng', '5', '$17.50', 'reached: $17.50 of $10.00'],
      ['carl', 'contractors', '2', '$4.20', '$4.20 of $5.00'],
      ['bob', 'eng', '2', '$0.80', '$0.80 of $10.00'],
    ]);
    assert.deepEqual(await page.$$eval('#groups tbody td', (tds) => tds.map((td) => td.textContent)), ['contractors', '$4.20', '$4.20 of $50.00']);
    assert.ok((await page.$$eval('#clients tbody td', (tds) => tds.map((td) => td.textContent))).includes('=HYPERLINK("http://evil")'), 'shown as text');
    assert.equal(await page.locator('#chart-days canvas').count(), 1, 'the daily chart is drawn');

    await page.click('#users tbody tr:has-text("alice")');
    await page.waitForSelector('#drill:not([hidden]) #user-models tbody tr');
    assert.match((await page.textContent('#drill-title')) ?? '', /^alice — \d{4}-\d{2}$/);
    const models = await page.$$eval('#user-models tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    assert.deepEqual(models, ['anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0']);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  } finally {
    await page.close();
  }
});

test('someone who is not an admin is refused after signing in; the API needs a session', { skip: chromiumMissing, timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  try {
    await signIn(page, 'alice');
    assert.match((await page.textContent('body')) ?? '', /alice is not an admin of this gateway\./);
  } finally {
    await page.close();
  }
  const api = await fetch(`${gatewayUrl}/admin/api/summary`);
  assert.equal(api.status, 401);
  const html = await fetch(`${gatewayUrl}/admin`, { redirect: 'manual' });
  assert.equal(html.status, 302);
  assert.equal(html.headers.get('location'), '/admin/login');
  assert.match(html.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});
