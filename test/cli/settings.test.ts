import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ALIASES, DEFAULT_MODEL } from '../../src/core/model-catalog.ts';
import {
  applyOverrides,
  DEFAULT_PORT,
  isLoopbackHost,
  modelMappingOf,
  parseModelFlags,
  parseSettings,
  resolveRegion,
  SettingsError,
} from '../../src/core/settings.ts';
import { credentialSourceName, resolveCredentials } from '../../src/app/credential-options.ts';
import { openSettingsStore, readSettings } from '../../src/app/settings-store.ts';

describe('settings', () => {
  it('has documented defaults', () => {
    const settings = parseSettings({});
    assert.equal(settings.port, DEFAULT_PORT);
    assert.equal(settings.port, 8741);
    assert.equal(settings.host, '127.0.0.1');
    assert.equal(settings.apiKey, undefined);
    assert.deepEqual(settings.allowedOrigins, []);
    assert.deepEqual(settings.models, {});
    assert.equal(settings.imageFetch.enabled, true);
    assert.ok(settings.bodyLimitBytes > 1024 * 1024);
    assert.deepEqual(settings.auth, {});
    assert.deepEqual(settings.usage, {});
  });

  it('keeps the auth and usage sections (and unknown keys) open', () => {
    const settings = parseSettings({ auth: { source: 'env', extra: 1 }, usage: { ledger: true }, future: 'x' });
    assert.deepEqual(settings.auth, { source: 'env', extra: 1 });
    assert.deepEqual(settings.usage, { ledger: true });
    assert.equal((settings as Record<string, unknown>).future, 'x');
  });

  it('names the bad keys', () => {
    assert.throws(() => parseSettings({ port: 'eighty', allowedOrigins: ['*'] }), (error: Error) => {
      assert.ok(error instanceof SettingsError);
      assert.match(error.message, /port/);
      assert.match(error.message, /allowedOrigins/);
      return true;
    });
  });

  it('merges command-line overrides, model aliases key by key, over the built-ins', () => {
    const file = parseSettings({ port: 9000, models: { a: 'amazon.nova-micro-v1:0', b: 'amazon.nova-lite-v1:0' }, defaultModel: 'a' });
    const merged = applyOverrides(file, { port: 0, models: parseModelFlags(['b=amazon.nova-pro-v1:0', 'gpt-4o=us.amazon.nova-pro-v1:0']), host: 'localhost' });
    assert.equal(merged.port, 0);
    assert.equal(merged.host, 'localhost');
    assert.deepEqual(merged.models, { a: 'amazon.nova-micro-v1:0', b: 'amazon.nova-pro-v1:0', 'gpt-4o': 'us.amazon.nova-pro-v1:0' });
    const mapping = modelMappingOf(merged);
    assert.equal(mapping.defaultModel, 'a');
    assert.equal(mapping.aliases['gpt-4o'], 'us.amazon.nova-pro-v1:0');
    assert.equal(mapping.aliases['gpt-4o-mini'], DEFAULT_ALIASES['gpt-4o-mini']);
    assert.throws(() => parseModelFlags(['nope']), SettingsError);
    assert.throws(() => parseModelFlags(['=x']), SettingsError);
    assert.deepEqual(parseModelFlags(['arn=arn:aws:bedrock:us-east-1:1:application-inference-profile/x=y']), { arn: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/x=y' });
  });

  it('has a default model out of the box, overridable by defaultModel, a models.default entry or the flags', () => {
    assert.equal(modelMappingOf(parseSettings({})).defaultModel, DEFAULT_MODEL);
    assert.equal(modelMappingOf(parseSettings({ defaultModel: 'gpt-4o-mini' })).defaultModel, 'gpt-4o-mini');
    const viaAlias = modelMappingOf(parseSettings({ models: { default: 'amazon.nova-micro-v1:0' } }));
    assert.equal(viaAlias.defaultModel, 'amazon.nova-micro-v1:0');
    assert.equal(Object.hasOwn(viaAlias.aliases, 'default'), false, "'default' always means the default model, it is not kept as an alias");
    assert.equal(modelMappingOf(parseSettings({ defaultModel: 'a', models: { a: 'amazon.nova-micro-v1:0', default: 'amazon.nova-lite-v1:0' } })).defaultModel, 'a');
    const file = parseSettings({ defaultModel: 'gpt-4o-mini' });
    assert.equal(applyOverrides(file, { defaultModel: 'gpt-5' }).defaultModel, 'gpt-5');
    assert.equal(applyOverrides(file, { models: parseModelFlags(['default=amazon.nova-pro-v1:0']) }).defaultModel, 'amazon.nova-pro-v1:0');
    assert.throws(() => modelMappingOf(parseSettings({ defaultModel: 'gpt-9000' })), (error: Error) => error instanceof SettingsError && /gpt-9000/.test(error.message));
  });

  it("an org gateway's models fill in under the user's: aliases, and a default model that may name one", () => {
    const org = { aliases: { team: 'amazon.nova-lite-v1:0', mine: 'amazon.nova-pro-v1:0' }, defaultModel: 'team' };
    const mapping = modelMappingOf(parseSettings({}), org);
    assert.equal(mapping.defaultModel, 'team');
    assert.equal(mapping.aliases.team, 'amazon.nova-lite-v1:0');
    const mine = modelMappingOf(parseSettings({ defaultModel: 'team', models: { mine: 'amazon.nova-micro-v1:0' } }), { aliases: org.aliases });
    assert.equal(mine.defaultModel, 'team', "the user's default may name the org's alias");
    assert.equal(mine.aliases.mine, 'amazon.nova-micro-v1:0', "the user's alias wins");
    assert.equal(modelMappingOf(parseSettings({ defaultModel: 'gpt-4o-mini' }), org).defaultModel, 'gpt-4o-mini', "the user's default wins");
    assert.equal(modelMappingOf(parseSettings({}), { aliases: { default: 'amazon.nova-micro-v1:0' } }).defaultModel, 'amazon.nova-micro-v1:0');
    const orgGpt4o = { aliases: { 'gpt-4o': 'amazon.nova-pro-v1:0' } };
    assert.equal(modelMappingOf(parseSettings({}), orgGpt4o).aliases['gpt-4o'], 'amazon.nova-pro-v1:0', "the org's alias replaces the built-in one of the same name");
    assert.equal(modelMappingOf(parseSettings({ models: { 'gpt-4o': 'amazon.nova-lite-v1:0' } }), orgGpt4o).aliases['gpt-4o'], 'amazon.nova-lite-v1:0', "the user's replaces the org's");
  });

  it('resolves the region flag > AWS_REGION > settings > us-east-1', () => {
    const withRegion = parseSettings({ region: 'eu-west-1' });
    assert.equal(resolveRegion('ap-south-1', { AWS_REGION: 'us-west-2' }, withRegion), 'ap-south-1');
    assert.equal(resolveRegion(undefined, { AWS_REGION: 'us-west-2' }, withRegion), 'us-west-2');
    assert.equal(resolveRegion(undefined, {}, withRegion), 'eu-west-1');
    assert.equal(resolveRegion(undefined, {}, parseSettings({})), 'us-east-1');
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) assert.ok(!isLoopbackHost(host), host);
  });

  it('reads a settings file, and tells what is wrong with a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-settings-'));
    try {
      assert.equal(readSettings(await openSettingsStore(dir)).settings.port, DEFAULT_PORT, 'no file: defaults');
      writeFileSync(join(dir, 'settings.json'), JSON.stringify({ port: 1234 }));
      assert.equal(readSettings(await openSettingsStore(dir)).settings.port, 1234);
      writeFileSync(join(dir, 'bad.json'), '{ nope');
      await assert.rejects(async () => readSettings(await openSettingsStore(dir, join(dir, 'bad.json'))), /bad\.json.*not valid JSON/);
      writeFileSync(join(dir, 'wildcard.json'), JSON.stringify({ allowedOrigins: ['*'] }));
      await assert.rejects(async () => readSettings(await openSettingsStore(dir, join(dir, 'wildcard.json'))), /wildcard\.json.*allowedOrigins/);
      await assert.rejects(openSettingsStore(dir, join(dir, 'missing.json')), /Cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks the credential source from --auth, then settings, then the SDK default', async () => {
    assert.equal(credentialSourceName('env', parseSettings({ auth: { source: 'default' } })), 'env');
    assert.equal(credentialSourceName(undefined, parseSettings({ auth: { source: 'env' } })), 'env');
    assert.equal(credentialSourceName(undefined, parseSettings({})), 'default');
    const context = { env: {}, settings: parseSettings({}), region: 'us-east-1', dataDirectory: '/tmp' };
    await assert.rejects(resolveCredentials('nope', context), /Unknown --auth source/);
    // `default` is the SDK's chain behind the long-lived-keys rule: a provider, but no source to report.
    const chain = await resolveCredentials('default', context);
    assert.equal(typeof chain.provider, 'function');
    assert.equal(chain.source, null);
  });
});
