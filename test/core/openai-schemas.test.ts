import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChatCompletionRequest, parseEmbeddingsRequest, formatParam } from '../../src/core/openai-schemas.ts';
import { OpenAIError } from '../../src/core/openai-errors.ts';

function fails(body: unknown, param: string | null, pattern?: RegExp, parse: (b: unknown) => unknown = parseChatCompletionRequest): void {
  assert.throws(
    () => parse(body),
    (error: unknown) => {
      assert.ok(error instanceof OpenAIError);
      assert.equal(error.status, 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, param);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

const user = [{ role: 'user', content: 'hi' }];

test('accepts what real clients send, including fields that only label the request', () => {
  const request = parseChatCompletionRequest({
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'sys', name: 'x' },
      { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==', detail: 'auto' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }], reasoning_content: 'hmm' },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.7,
    top_p: null,
    max_tokens: 10,
    n: 1,
    logprobs: false,
    presence_penalty: 0,
    frequency_penalty: 0,
    seed: null,
    prediction: null,
    verbosity: null,
    user: 'me',
    safety_identifier: 'user-123',
    prompt_cache_key: 'session-1',
    store: false,
    service_tier: 'auto',
    metadata: { a: 'b' },
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }],
    tool_choice: 'auto',
    parallel_tool_calls: true,
  });
  assert.equal(request.messages.length, 4);
  parseChatCompletionRequest({ messages: user, service_tier: 'default', store: null, metadata: null, top_k: 40 });
});

function unsupportedField(body: Record<string, unknown>, param: string, pattern: RegExp, parse: (b: unknown) => unknown = parseChatCompletionRequest): void {
  assert.throws(
    () => parse(body),
    (error: unknown) => {
      assert.ok(error instanceof OpenAIError);
      assert.deepEqual(error.toJSON().error, { message: error.message, type: 'invalid_request_error', param, code: 'unsupported_parameter' });
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('unknown top-level fields are a 400 unsupported_parameter naming the field, never silently ignored', () => {
  unsupportedField({ messages: user, foo: 1 }, 'foo', /Unrecognized request argument supplied: foo\b/);
  unsupportedField({ messages: user, verbosity_level: 'low', thinking: { type: 'enabled' } }, 'verbosity_level', /arguments supplied: verbosity_level, thinking/);
  // A null is as unknown as any other value: the name itself is the problem (a misspelling, say).
  unsupportedField({ messages: user, temprature: null }, 'temprature', /temprature/);
  // Messages and parts stay open: clients decorate them with fields of their own.
  parseChatCompletionRequest({ messages: [{ role: 'user', content: 'hi', name: 'me', x_custom: 1 }] });
});

test('seed, prediction, verbosity, store: true and other service tiers are a 400 unless null', () => {
  unsupportedField({ messages: user, seed: 42 }, 'seed', /reproducible/);
  unsupportedField({ messages: user, seed: 0 }, 'seed', /seed/);
  unsupportedField({ messages: user, prediction: { type: 'content', content: 'old code' } }, 'prediction', /Predicted Outputs/);
  unsupportedField({ messages: user, verbosity: 'low' }, 'verbosity', /verbosity/);
  unsupportedField({ messages: user, store: true }, 'store', /store/);
  unsupportedField({ messages: user, service_tier: 'flex' }, 'service_tier', /'flex'/);
  unsupportedField({ messages: user, service_tier: 'priority' }, 'service_tier', /'auto' and 'default'/);
  fails({ messages: user, top_k: 0 }, 'top_k');
  fails({ messages: user, top_k: 1.5 }, 'top_k');
  parseChatCompletionRequest({ messages: user, seed: null, prediction: null, verbosity: null, store: false, service_tier: null, top_k: null });
});

test('missing model is accepted (the default model applies)', () => {
  assert.equal(parseChatCompletionRequest({ messages: user }).model, undefined);
});

test('known-unsupported fields are a 400 naming the field, never silently ignored', () => {
  fails({ messages: user, n: 2 }, 'n', /n > 1/);
  fails({ messages: user, logprobs: true }, 'logprobs');
  fails({ messages: user, top_logprobs: 3 }, 'top_logprobs');
  fails({ messages: user, audio: { voice: 'alloy', format: 'mp3' } }, 'audio');
  fails({ messages: user, modalities: ['text', 'audio'] }, 'modalities');
  fails({ messages: user, functions: [{ name: 'f' }] }, 'functions', /tools/);
  fails({ messages: user, function_call: 'auto' }, 'function_call', /tool_choice/);
  fails({ messages: user, logit_bias: { '50256': -100 } }, 'logit_bias');
  fails({ messages: user, presence_penalty: 0.5 }, 'presence_penalty');
  fails({ messages: user, frequency_penalty: -1 }, 'frequency_penalty');
  fails({ messages: user, web_search_options: {} }, 'web_search_options');
  fails({ messages: [{ role: 'assistant', content: 'x', function_call: { name: 'f', arguments: '{}' } }] }, 'messages[0].function_call');
  // Harmless forms of the same fields pass.
  parseChatCompletionRequest({ messages: user, n: 1, logprobs: false, top_logprobs: null, logit_bias: {}, modalities: ['text'], functions: null });
});

test('invalid values name the field precisely', () => {
  fails({ messages: [] }, 'messages');
  fails({}, 'messages', /Missing/);
  fails({ messages: user, temperature: 3 }, 'temperature');
  fails({ messages: user, max_tokens: 0 }, 'max_tokens');
  fails({ messages: user, max_tokens: 1.5 }, 'max_tokens');
  fails({ messages: [{ role: 'user' }] }, 'messages[0].content', /Missing/);
  fails({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
  fails({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type', /input_audio.*not supported/);
  fails({ messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }, 'messages[0].content[1]'.replace('1', '0') + '.type');
  fails({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text');
  fails({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role', /tool/);
  fails({ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role');
  fails({ messages: user, tools: [{ type: 'web_search' }] }, 'tools[0].type', /only 'function'/);
  fails({ messages: user, response_format: { type: 'xml' } }, 'response_format.type');
  fails({ messages: user, reasoning_effort: 'extreme' }, 'reasoning_effort');
  fails('nope', null, /JSON object/);
  fails([1], null, /JSON object/);
});

test('embeddings requests: strings and string arrays; token arrays and empty input are a 400', () => {
  assert.equal(parseEmbeddingsRequest({ model: 'm', input: 'x' }).input, 'x');
  assert.deepEqual(parseEmbeddingsRequest({ model: 'm', input: ['a', 'b'], encoding_format: 'base64', dimensions: 256 }).input, ['a', 'b']);
  fails({ model: 'm', input: [1, 2, 3] }, 'input', /Token arrays/, parseEmbeddingsRequest);
  fails({ model: 'm', input: [[1, 2]] }, 'input', /Token arrays/, parseEmbeddingsRequest);
  fails({ model: 'm', input: '' }, 'input', undefined, parseEmbeddingsRequest);
  fails({ model: 'm', input: [] }, 'input', undefined, parseEmbeddingsRequest);
  fails({ model: 'm', input: ['a', ''] }, 'input[1]', undefined, parseEmbeddingsRequest);
  fails({ model: 'm', input: 'x', encoding_format: 'int8' }, 'encoding_format', undefined, parseEmbeddingsRequest);
  fails({ model: 'm' }, 'input', /Missing/, parseEmbeddingsRequest);
});

test('embeddings requests: unknown fields are a 400 naming them; user and input_type are accepted', () => {
  unsupportedField({ model: 'm', input: 'x', truncate: 'END' }, 'truncate', /Unrecognized request argument supplied: truncate/, parseEmbeddingsRequest);
  parseEmbeddingsRequest({ model: 'm', input: 'x', user: 'me', input_type: 'search_query', dimensions: null, encoding_format: null });
});

test('formatParam', () => {
  assert.equal(formatParam(['messages', 2, 'content', 0, 'image_url']), 'messages[2].content[0].image_url');
  assert.equal(formatParam([]), null);
});
