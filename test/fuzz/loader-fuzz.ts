/**
 * Fuzz properties of the files the app reads at start: `settings.json` (src/app/settings-store.ts, through conf as both shells read it) and
 * `sign-in.json` (src/credentials/settings.ts). Mutated valid files, random bytes, BOMs and broken
 * JSON must load or fail with the loader's own error, saying what is wrong without quoting a secret
 * (the settings file holds the local API key) or a stack trace, and without polluting prototypes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSettingsStore, readSettings } from '../../src/app/settings-store.ts';
import { SettingsError } from '../../src/core/settings.ts';
import { CredentialConfigurationError } from '../../src/credentials/errors.ts';
import { loadCredentialSettings, SETTINGS_FILE } from '../../src/credentials/settings.ts';
import { bodyArbitrary } from './arbitraries.ts';

export const SETTINGS_SECRET = 'bb-Zq9w7Lk3Xy5Vt1Rp8Mn2Hc4';

const SETTINGS_SAMPLES = [
  { apiKey: SETTINGS_SECRET, port: 8741, host: '127.0.0.1', models: { sonnet: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }, defaultModel: 'sonnet', allowedOrigins: ['http://localhost:3000'] },
  { apiKey: SETTINGS_SECRET, imageFetch: { enabled: true, maxBytes: 1024, allowHosts: ['images.corp.example', '10.0.0.0/8'] }, usage: { endpoint: 'https://audit.example/usage' }, auth: { source: 'org-gateway' } },
  { endpoints: { bedrockRuntime: 'http://127.0.0.1:1' }, apiKey: SETTINGS_SECRET, modelCacheSeconds: 0, maxAttempts: 3 },
];

const SIGN_IN_SAMPLES = [
  { source: 'identity-center', identityCenter: { startUrl: 'https://my-org.awsapps.com/start', region: 'us-east-1', accountId: '111122223333', roleName: 'Dev' } },
  { source: 'org-gateway', orgGateway: { url: 'https://gateway.example' }, memoryOnlyVault: true },
  { source: 'aws-profile', awsProfile: { profile: 'dev' }, allowLongLivedKeys: false },
];

function problemsWith(error: unknown, expected: new (...args: any[]) => Error): string[] {
  if (!(error instanceof expected)) return [`threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} instead of ${expected.name}`];
  const problems: string[] = [];
  // Any 8 characters of the key in a row count: an error quoting part of a key gives that part away.
  const quoted = Array.from({ length: SETTINGS_SECRET.length - 7 }, (_, i) => SETTINGS_SECRET.slice(i, i + 8)).some((part) => error.message.includes(part));
  if (quoted) problems.push(`the API key is in the error: ${error.message.slice(0, 300)}`);
  if (/\n\s+at /.test(error.message)) problems.push('a stack trace in the error');
  return problems;
}

function assertNoPollution(): string[] {
  const probe = {} as Record<string, unknown>;
  return ['polluted', 'port', 'apiKey', 'source'].filter((key) => probe[key] !== undefined).map((key) => `Object.prototype.${key} was set`);
}

/** Random content for settings.json. */
export function settingsFileProperty(): fc.IAsyncProperty<[Buffer]> {
  const dir = mkdtempSync(join(tmpdir(), 'bb-fuzz-settings-'));
  const file = join(dir, 'settings.json');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return fc.asyncProperty(bodyArbitrary(SETTINGS_SAMPLES), async (content) => {
    writeFileSync(file, content);
    let problems: string[] = [];
    try {
      readSettings(await openSettingsStore(dir, file));
    } catch (error) {
      problems = problemsWith(error, SettingsError);
    }
    problems.push(...assertNoPollution());
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n--- file ---\n${content.subarray(0, 300).toString('utf8')}`);
  });
}

/** Random content for sign-in.json. */
export function signInFileProperty(): fc.IAsyncProperty<[Buffer]> {
  const dir = mkdtempSync(join(tmpdir(), 'bb-fuzz-sign-in-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return fc.asyncProperty(bodyArbitrary(SIGN_IN_SAMPLES), async (content) => {
    writeFileSync(join(dir, SETTINGS_FILE), content);
    let problems: string[] = [];
    try {
      await loadCredentialSettings(dir);
    } catch (error) {
      problems = problemsWith(error, CredentialConfigurationError);
    }
    problems.push(...assertNoPollution());
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n--- file ---\n${content.subarray(0, 300).toString('utf8')}`);
  });
}
