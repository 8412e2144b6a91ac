import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toBedrockNativeBody, withoutBetas } from '../../src/core/anthropic-sanitiser.ts';
import { NativeUsage } from '../../src/core/anthropic-usage.ts';
import { claudeModelNamed, claudeTraitsOf, contextWindowOf } from '../../src/core/claude-models.ts';
import { claudeProfileOf, resolveModel } from '../../src/core/model-catalog.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const HAIKU_4_5 = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const SONNET_4_6 = 'anthropic.claude-sonnet-4-6';
const CLAUDE_3_5_HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const hello = [{ role: 'user', content: 'hi' }];

test('the envelope: anthropic_version in, model and stream out, header betas into anthropic_beta (deduplicated)', () => {
  const { body, dropped } = toBedrockNativeBody(
    { model: 'claude-haiku-4-5', stream: true, max_tokens: 10, anthropic_beta: ['claude-code-20250219'], messages: hello },
    { baseModelId: HAIKU_4_5, betaHeader: 'claude-code-20250219, interleaved-thinking-2025-05-14' },
  );
  assert.deepEqual(body, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: hello, anthropic_beta: ['claude-code-20250219', 'interleaved-thinking-2025-05-14'] });
  assert.deepEqual(dropped, []);
});

test('content passes untouched: thinking blocks with signatures, images, documents, citations, cache_control', () => {
  const messages = [
    { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }, { type: 'document', source: { type: 'text', data: 'doc' }, citations: { enabled: true } }] },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 'sig' }, { type: 'text', text: 'a', cache_control: { type: 'ephemeral', ttl: '5m' } }] },
    { role: 'user', content: 'next' },
  ];
  const { body, dropped } = toBedrockNativeBody({ max_tokens: 10, messages }, { baseModelId: HAIKU_4_5 });
  assert.equal(body.messages, messages, 'the same array: nothing to change');
  assert.deepEqual(dropped, []);
});

test('betas per family: refused ones dropped, renamed ones renamed, unknown ones kept and reported, learnt refusals left out', () => {
  const header = 'oauth-2025-04-20,advanced-tool-use-2025-11-20,prompt-caching-scope-2026-01-05,thinking-token-count-2026-05-13,context-1m-2025-08-07';
  const four = toBedrockNativeBody({ max_tokens: 10, messages: hello }, { baseModelId: HAIKU_4_5, betaHeader: header });
  assert.deepEqual(four.body.anthropic_beta, ['tool-search-tool-2025-10-19', 'thinking-token-count-2026-05-13', 'context-1m-2025-08-07']);
  assert.deepEqual(four.dropped, ['anthropic_beta:oauth-2025-04-20', 'anthropic_beta:prompt-caching-scope-2026-01-05']);
  assert.deepEqual(four.unknownBetas, ['thinking-token-count-2026-05-13']);
  const retried = withoutBetas(four, four.unknownBetas);
  assert.deepEqual(retried.body.anthropic_beta, ['tool-search-tool-2025-10-19', 'context-1m-2025-08-07']);
  assert.deepEqual(retried.dropped.at(-1), 'anthropic_beta:thinking-token-count-2026-05-13');

  const learnt = toBedrockNativeBody({ max_tokens: 10, messages: hello }, { baseModelId: HAIKU_4_5, betaHeader: header, refusedBetas: new Set(['thinking-token-count-2026-05-13']) });
  assert.deepEqual(learnt.unknownBetas, []);
  const three = toBedrockNativeBody({ max_tokens: 10, messages: hello }, { baseModelId: CLAUDE_3_5_HAIKU, betaHeader: 'claude-code-20250219,interleaved-thinking-2025-05-14' });
  assert.deepEqual(three.body.anthropic_beta, ['claude-code-20250219'], 'Claude 3 has no interleaved thinking');
});

test('metadata.user_id: a value in Bedrock\'s pattern is kept, Claude Code\'s JSON string is hashed (stable), other keys dropped', () => {
  const kept = toBedrockNativeBody({ max_tokens: 10, messages: hello, metadata: { user_id: 'user_42' } }, { baseModelId: HAIKU_4_5 });
  assert.deepEqual(kept.body.metadata, { user_id: 'user_42' });
  const json = JSON.stringify({ device_id: 'abc', account_uuid: 'x', session_id: 's' });
  const a = toBedrockNativeBody({ max_tokens: 10, messages: hello, metadata: { user_id: json, tag: 'x' } }, { baseModelId: HAIKU_4_5 });
  const b = toBedrockNativeBody({ max_tokens: 10, messages: hello, metadata: { user_id: json } }, { baseModelId: HAIKU_4_5 });
  assert.match(a.body.metadata.user_id, /^sha256:[0-9a-f]{40}$/);
  assert.equal(a.body.metadata.user_id, b.body.metadata.user_id);
  assert.ok(!JSON.stringify(a.body).includes('device_id'));
  assert.deepEqual(a.dropped, ['metadata.user_id', 'metadata.tag']);
});

test('context_management: only compact edits under the compact beta survive', () => {
  const clear = { edits: [{ type: 'clear_thinking_20251015' }] };
  assert.deepEqual(toBedrockNativeBody({ max_tokens: 10, messages: hello, context_management: clear }, { baseModelId: HAIKU_4_5 }).dropped, ['context_management']);
  const mixed = { edits: [{ type: 'clear_tool_uses_20250919' }, { type: 'compact_20260112' }] };
  const kept = toBedrockNativeBody({ max_tokens: 10, messages: hello, context_management: mixed }, { baseModelId: HAIKU_4_5, betaHeader: 'compact-2026-01-12' });
  assert.deepEqual(kept.body.context_management, { edits: [{ type: 'compact_20260112' }] });
  assert.deepEqual(kept.dropped, ['context_management.edits[]']);
});

test('output_config: format becomes a system instruction; effort kept for Claude 4.6+, used as the thinking budget before', () => {
  const format = { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } } } };
  const titled = toBedrockNativeBody({ max_tokens: 100, system: 'You title sessions.', messages: hello, output_config: { format } }, { baseModelId: HAIKU_4_5 });
  assert.equal(titled.body.output_config, undefined);
  assert.deepEqual(titled.body.system[0], { type: 'text', text: 'You title sessions.' });
  assert.match(titled.body.system[1].text, /"title"/);
  assert.deepEqual(titled.dropped, ['output_config.format']);

  const adaptive = { max_tokens: 20_000, messages: hello, thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } };
  const six = toBedrockNativeBody(adaptive, { baseModelId: SONNET_4_6 });
  assert.deepEqual(six.body.thinking, { type: 'adaptive' });
  assert.deepEqual(six.body.output_config, { effort: 'medium' });
  assert.deepEqual(six.dropped, []);
  const five = toBedrockNativeBody(adaptive, { baseModelId: HAIKU_4_5 });
  assert.deepEqual(five.body.thinking, { type: 'enabled', budget_tokens: 12_000 });
  assert.equal(five.body.output_config, undefined);
  assert.deepEqual(five.dropped, ['output_config.effort', 'thinking.type:adaptive']);
  const tight = toBedrockNativeBody({ ...adaptive, max_tokens: 1000 }, { baseModelId: HAIKU_4_5 });
  assert.equal(tight.body.thinking, undefined, 'no room for the 1024-token minimum budget');
  const old = toBedrockNativeBody({ max_tokens: 4000, messages: hello, thinking: { type: 'enabled', budget_tokens: 1024 } }, { baseModelId: CLAUDE_3_5_HAIKU });
  assert.equal(old.body.thinking, undefined);
  assert.deepEqual(old.dropped, ['thinking']);
});

test('tools: custom removed, defer_loading only under tool search, server tools removed (and a tool_choice naming one)', () => {
  const tools = [
    { name: 'Read', input_schema: { type: 'object' }, custom: { defer_loading: true }, cache_control: { type: 'ephemeral', scope: 'global' } },
    { name: 'Later', input_schema: { type: 'object' }, defer_loading: true },
    { type: 'web_search_20250305', name: 'web_search' },
    { type: 'bash_20250124', name: 'bash' },
  ];
  const { body, dropped } = toBedrockNativeBody({ max_tokens: 10, messages: hello, tools, tool_choice: { type: 'tool', name: 'web_search' } }, { baseModelId: HAIKU_4_5 });
  assert.deepEqual(body.tools, [
    { name: 'Read', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } },
    { name: 'Later', input_schema: { type: 'object' } },
    { type: 'bash_20250124', name: 'bash' },
  ]);
  assert.equal(body.tool_choice, undefined);
  assert.deepEqual(dropped, ['tools[].cache_control.scope', 'tools[].custom', 'tools[].defer_loading', 'tools:web_search_20250305', 'tool_choice']);
  const searching = toBedrockNativeBody({ max_tokens: 10, messages: hello, tools }, { baseModelId: HAIKU_4_5, betaHeader: 'tool-search-tool-2025-10-19' });
  assert.equal(searching.body.tools[1].defer_loading, true);
});

test('mid-conversation system messages join a user turn on models without them (and their beta goes)', () => {
  const messages = [
    { role: 'user', content: 'first' },
    { role: 'system', content: 'rule one' },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
    { role: 'system', content: [{ type: 'text', text: 'rule two' }] },
    { role: 'user', content: [{ type: 'text', text: 'second' }] },
    { role: 'assistant', content: 'done' },
    { role: 'system', content: 'rule three' },
  ];
  const betaHeader = 'mid-conversation-system-2026-04-07,claude-code-20250219';
  const folded = toBedrockNativeBody({ max_tokens: 10, messages }, { baseModelId: HAIKU_4_5, betaHeader });
  assert.deepEqual(folded.body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'rule one' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
    { role: 'user', content: [{ type: 'text', text: 'rule two' }, { type: 'text', text: 'second' }, { type: 'text', text: 'rule three' }] },
    { role: 'assistant', content: 'done' },
  ]);
  assert.deepEqual(folded.body.anthropic_beta, ['claude-code-20250219']);
  assert.deepEqual(folded.dropped, ['messages[].role:system', 'anthropic_beta:mid-conversation-system-2026-04-07']);
  const kept = toBedrockNativeBody({ max_tokens: 10, messages }, { baseModelId: 'anthropic.claude-opus-4-8', betaHeader });
  assert.equal(kept.body.messages, messages, 'Claude Opus 4.8 takes them');
});

test('max_tokens above a known ceiling is lowered, and a thinking budget with it', () => {
  const request = { max_tokens: 64_000, thinking: { type: 'enabled', budget_tokens: 40_000 }, messages: hello };
  const { body, dropped } = toBedrockNativeBody(request, { baseModelId: 'anthropic.claude-opus-4-1-20250805-v1:0', maxOutputTokens: 32_000 });
  assert.equal(body.max_tokens, 32_000);
  assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 31_999 });
  assert.deepEqual(dropped, ['max_tokens:lowered', 'thinking.budget_tokens:lowered']);
  assert.deepEqual(toBedrockNativeBody({ max_tokens: 1000, messages: hello }, { baseModelId: HAIKU_4_5, maxOutputTokens: 64_000 }).dropped, []);
});

test('unknown top-level fields are dropped by name; count_tokens gets a max_tokens Bedrock takes', () => {
  const { body, dropped } = toBedrockNativeBody({ messages: hello, service_tier: 'auto', container: 'c', thinking: { type: 'enabled', budget_tokens: 2048 } }, { baseModelId: HAIKU_4_5, countTokens: true });
  assert.deepEqual(dropped, ['service_tier', 'container']);
  assert.equal(body.max_tokens, 2049);
});

test('Claude first-party names -> Bedrock ids and region profiles; aliases first', () => {
  assert.equal(claudeModelNamed('claude-sonnet-4-5')?.bedrock, 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(claudeModelNamed('claude-sonnet-4-5-20250929')?.bedrock, 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(claudeModelNamed('claude-sonnet-4')?.bedrock, 'anthropic.claude-sonnet-4-20250514-v1:0');
  assert.equal(claudeModelNamed('claude-opus-4-1-20250805')?.bedrock, 'anthropic.claude-opus-4-1-20250805-v1:0');
  assert.equal(claudeModelNamed('claude-sonnet-4-6[1m]')?.bedrock, 'anthropic.claude-sonnet-4-6');
  assert.equal(claudeModelNamed('claude-3.5-sonnet'), undefined);
  assert.equal(claudeProfileOf('claude-haiku-4-5', 'us-west-2'), 'us.anthropic.claude-haiku-4-5-20251001-v1:0');
  assert.equal(claudeProfileOf('claude-opus-4-6', 'eu-central-1'), 'eu.anthropic.claude-opus-4-6-v1');
  assert.equal(claudeProfileOf('claude-sonnet-4-5', 'ap-northeast-1'), 'apac.anthropic.claude-sonnet-4-5-20250929-v1:0');
  const mapping = { aliases: { 'claude-haiku-4-5': 'amazon.nova-micro-v1:0', fast: 'claude-haiku-4-5' }, defaultModel: null };
  assert.equal(resolveModel('claude-haiku-4-5', mapping, 'us-east-1').modelId, 'amazon.nova-micro-v1:0', 'an alias wins');
  assert.equal(resolveModel('fast', mapping, 'us-east-1').modelId, 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'an alias may name a Claude model (aliases do not chain)');
  assert.equal(resolveModel('claude-opus-4-1', mapping, 'us-east-1').modelId, 'us.anthropic.claude-opus-4-1-20250805-v1:0');
  assert.throws(() => resolveModel('claude-opus-4-1', mapping), /model/, 'no region: not resolved');
});

test('traits and context windows: the table, else the id', () => {
  assert.equal(claudeTraitsOf(SONNET_4_6).adaptiveThinking, true);
  assert.equal(claudeTraitsOf(HAIKU_4_5).adaptiveThinking, false);
  assert.equal(claudeTraitsOf('anthropic.claude-opus-4-9').adaptiveThinking, true, 'a newer model than the table');
  assert.equal(claudeTraitsOf('anthropic.claude-3-haiku-20240307-v1:0').thinking, false);
  assert.equal(contextWindowOf(HAIKU_4_5, []), 200_000);
  assert.equal(contextWindowOf(SONNET_4_6, ['context-1m-2025-08-07']), 1_000_000);
  assert.equal(contextWindowOf('anthropic.claude-opus-4-8', []), 1_000_000);
});

test('usage: message_start, message_delta and the invocation metrics merged, metrics winning', () => {
  const usage = new NativeUsage();
  usage.addEvent({ type: 'message_start', message: { usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 2, output_tokens: 1 } } });
  usage.addEvent({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } });
  usage.addEvent({ type: 'message_delta', usage: { output_tokens: 7 } });
  assert.deepEqual(usage.usage, { inputTokens: 10, outputTokens: 7, cacheReadTokens: 5, cacheWriteTokens: 2 });
  usage.addEvent({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 11, outputTokenCount: 8, invocationLatency: 5 } });
  assert.deepEqual(usage.usage, { inputTokens: 11, outputTokens: 8, cacheReadTokens: 5, cacheWriteTokens: 2 });
});
