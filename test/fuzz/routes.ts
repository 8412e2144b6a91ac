/**
 * The local server's public routes as the fuzz sees them: one line per route, with the dialect its
 * errors must be in and valid bodies the mutations start from. A new route is one more line.
 */
import type { Dialect } from '../../src/server/dialect.ts';

export interface FuzzRoute {
  method: 'GET' | 'POST';
  /** `{id}` is replaced by a generated path segment (a model id, an ARN, garbage). */
  path: string;
  /** The shape every error on this route must have. */
  dialect: Dialect;
  /** Valid request bodies (POST routes); the fuzz mutates them. */
  samples: readonly unknown[];
}

const CHAT_SAMPLES = [
  { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
  { model: 'amazon.nova-lite-v1:0', stream: true, stream_options: { include_usage: true }, max_tokens: 16, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
  {
    model: 'gpt-4o',
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":20}' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: 'auto',
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
    temperature: 0.5,
  },
  { model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] },
];

const EMBEDDING_SAMPLES = [
  { model: 'amazon.titan-embed-text-v2:0', input: 'hello' },
  { model: 'cohere.embed-english-v3', input: ['a', 'b'], encoding_format: 'base64', dimensions: 256 },
];

const MESSAGES_SAMPLES = [
  { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
  {
    model: 'claude-haiku-4-5',
    max_tokens: 4000,
    stream: true,
    system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
    thinking: { type: 'adaptive' },
    metadata: { user_id: '{"device_id":"d"}' },
    context_management: { edits: [{ type: 'clear_thinking_20251015' }] },
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, custom: { defer_loading: true } }],
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
    ],
  },
  { model: 'amazon.nova-lite-v1:0', max_tokens: 16, stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }] },
];

const RESPONSES_SAMPLES = [
  { model: 'gpt-4o', input: 'hi' },
  { model: 'gpt-4o', instructions: 'be brief', stream: true, store: false, max_output_tokens: 16, input: [{ role: 'developer', content: 'rules' }, { role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] },
  {
    model: 'gpt-4o',
    input: [
      { role: 'user', content: 'weather?' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"temp":20}' },
      { type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch\n' },
      { type: 'custom_tool_call_output', call_id: 'call_2', output: 'ok' },
    ],
    tools: [
      { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } },
      { type: 'namespace', name: 'mcp__files', tools: [{ type: 'function', name: 'read' }] },
      { type: 'web_search' },
    ],
    tool_choice: 'auto',
    reasoning: { effort: 'low', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' } }, verbosity: 'low' },
    prompt_cache_key: 'thread-1',
  },
];

export const ROUTES: readonly FuzzRoute[] = [
  { method: 'POST', path: '/v1/chat/completions', dialect: 'openai', samples: CHAT_SAMPLES },
  { method: 'POST', path: '/v1/embeddings', dialect: 'openai', samples: EMBEDDING_SAMPLES },
  { method: 'GET', path: '/v1/models', dialect: 'openai', samples: [] },
  { method: 'GET', path: '/v1/models/{id}', dialect: 'openai', samples: [] },
  { method: 'POST', path: '/model/{id}/converse', dialect: 'bedrock', samples: [{ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }] },
  { method: 'POST', path: '/model/{id}/invoke', dialect: 'bedrock', samples: [{ anthropic_version: 'bedrock-2023-05-31', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }] },
  { method: 'POST', path: '/v1/messages', dialect: 'anthropic', samples: MESSAGES_SAMPLES },
  { method: 'POST', path: '/v1/messages/count_tokens', dialect: 'anthropic', samples: [{ model: 'claude-haiku-4-5', system: 'be brief', messages: [{ role: 'user', content: 'count me' }] }] },
  { method: 'POST', path: '/v1/responses', dialect: 'openai', samples: RESPONSES_SAMPLES },
  { method: 'GET', path: '/v1/responses/{id}', dialect: 'openai', samples: [] },
  { method: 'GET', path: '/v1/responses/{id}/input_items', dialect: 'openai', samples: [] },
];

/** Model ids the `{id}` segment starts from. */
export const KNOWN_IDS = ['gpt-4o', 'amazon.nova-lite-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc'];
