/**
 * Validation of the OpenAI request bodies we accept (zod v4, built once at module load).
 *
 * Policy: a top-level field is honoured or rejected with a 400 naming it, never silently ignored. That
 * covers unknown fields (a misspelt or vendor-specific knob the user expects to work) and known ones
 * Bedrock cannot honour (`n > 1`, `logprobs`, `seed`, `audio`, the legacy `functions` API, non-zero
 * penalties, `logit_bias`, ...). Fields that only label the request (`user`, `metadata`, ...) pass,
 * as they cannot change the answer. Nested objects stay loose: clients decorate messages and parts
 * with fields of their own (`name`, `reasoning_content`, ...). See docs/compatibility.md.
 */
import { z } from 'zod';
import { invalidRequest, OpenAIError } from './openai-errors.ts';
import { embeddingTexts } from './embeddings.ts';

const cacheControlSchema = z
  .looseObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() })
  .nullish();

const textPartSchema = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControlSchema,
});

const imagePartSchema = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.union([z.string(), z.looseObject({ url: z.string(), detail: z.string().nullish() })]),
  cache_control: cacheControlSchema,
});

const refusalPartSchema = z.looseObject({
  type: z.literal('refusal'),
  refusal: z.string(),
  cache_control: cacheControlSchema,
});

const userPartSchema = z.discriminatedUnion('type', [textPartSchema, imagePartSchema]);
const assistantPartSchema = z.discriminatedUnion('type', [textPartSchema, refusalPartSchema]);
const textOnlyPartSchema = z.discriminatedUnion('type', [textPartSchema]);

const toolCallSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string().nullish() }),
});

const systemMessageSchema = z.looseObject({
  role: z.literal('system'),
  content: z.union([z.string(), z.array(textOnlyPartSchema)]),
  cache_control: cacheControlSchema,
});
const developerMessageSchema = z.looseObject({
  role: z.literal('developer'),
  content: z.union([z.string(), z.array(textOnlyPartSchema)]),
  cache_control: cacheControlSchema,
});
const userMessageSchema = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userPartSchema)]),
  cache_control: cacheControlSchema,
});
const assistantMessageSchema = z.looseObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(assistantPartSchema)]).nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
  refusal: z.string().nullish(),
  function_call: z.unknown().optional(),
  cache_control: cacheControlSchema,
});
const toolMessageSchema = z.looseObject({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.union([z.string(), z.array(textOnlyPartSchema)]),
  cache_control: cacheControlSchema,
});

const messageSchema = z.discriminatedUnion('role', [
  systemMessageSchema,
  developerMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
]);

const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
  cache_control: cacheControlSchema,
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const responseFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const chatCompletionRequestSchema = z.strictObject({
  model: z.string().nullish(),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.int().positive().nullish(),
  max_completion_tokens: z.int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  n: z.int().positive().nullish(),
  tools: z.array(functionToolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormatSchema.nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  /** Not OpenAI's: the sampling knob vLLM, OpenRouter and Anthropic-minded clients send. */
  top_k: z.int().positive().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().nullish(),
  logit_bias: z.record(z.string(), z.unknown()).nullish(),
  modalities: z.array(z.string()).nullish(),
  store: z.boolean().nullish(),
  service_tier: z.string().nullish(),
  // Labels of the request: they cannot change the answer, so they are accepted and not sent.
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  // Rejected whenever set (see REJECTED_UNLESS_NULL); any value is as unsupported as another.
  seed: z.unknown().optional(),
  prediction: z.unknown().optional(),
  verbosity: z.unknown().optional(),
  audio: z.unknown().optional(),
  functions: z.unknown().optional(),
  function_call: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessage = ChatCompletionRequest['messages'][number];
export type ChatTool = NonNullable<ChatCompletionRequest['tools']>[number];
export type ChatToolChoice = NonNullable<ChatCompletionRequest['tool_choice']>;
export type ChatResponseFormat = NonNullable<ChatCompletionRequest['response_format']>;
export type CacheControl = NonNullable<z.infer<typeof cacheControlSchema>>;

export const embeddingsRequestSchema = z.strictObject({
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.int().positive().nullish(),
  user: z.string().nullish(),
  /** Cohere extension: search_document (default), search_query, classification, clustering. */
  input_type: z.enum(['search_document', 'search_query', 'classification', 'clustering']).nullish(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** ['messages', 2, 'content', 0] -> 'messages[2].content[0]' */
export function formatParam(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? null : out;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
  note?: string;
  discriminator?: string;
  options?: unknown[];
  keys?: string[];
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Descends into union errors to the branch that got furthest, so the param points at the real problem. */
function deepestIssue(issue: Issue, prefix: PropertyKey[]): { issue: Issue; path: PropertyKey[] } {
  const path = prefix.concat(issue.path);
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    let best: Issue | undefined;
    let bestScore = -1;
    for (const branch of issue.errors) {
      const first = branch[0];
      if (!first) continue;
      // A type mismatch at the branch root means "this branch did not apply at all".
      const score = first.code === 'invalid_type' && first.path.length === 0 ? 0 : first.path.length + 1;
      if (score > bestScore) {
        bestScore = score;
        best = first;
      }
    }
    if (best && bestScore > 0) return deepestIssue(best, path);
  }
  return { issue, path };
}

function describe(issue: Issue, path: PropertyKey[], body: unknown): string {
  if (issue.note === 'No matching discriminator' && issue.discriminator) {
    // path ends with the discriminator field; param names the object that has it
    const value = valueAt(body, path);
    const field = issue.discriminator;
    const param = formatParam(path.slice(0, -1)) ?? 'body';
    if (field === 'role' && value === 'function') {
      return `${param}: messages with role 'function' (the legacy functions API) are not supported; use role 'tool' with tool_call_id.`;
    }
    const allowed = (issue.options ?? []).map((o) => `'${String(o)}'`).join(', ');
    if (field === 'type' && path.includes('content')) {
      return `${param}: content part type ${JSON.stringify(value)} is not supported here (supported: ${allowed}).`;
    }
    if (field === 'type' && path[0] === 'tools') {
      return `${param}: tool type ${JSON.stringify(value)} is not supported; only 'function' tools are.`;
    }
    return `${param}.${field}: ${JSON.stringify(value)} is not supported (expected ${allowed}).`;
  }
  const param = formatParam(path) ?? 'body';
  if (path[0] === 'tools' && path[path.length - 1] === 'type' && path.length === 3) {
    return `${param}: tool type ${JSON.stringify(valueAt(body, path))} is not supported; only 'function' tools are.`;
  }
  if (path.length > 0 && valueAt(body, path) === undefined) return `Missing required field '${param}'.`;
  return `Invalid value for '${param}': ${issue.message}`;
}

/** The first problem zod found, as a 400 naming the field. */
export function zodToOpenAIError(error: z.ZodError, body: unknown): OpenAIError {
  const first = error.issues[0] as unknown as Issue | undefined;
  if (!first) return invalidRequest('Invalid request body');
  if (first.code === 'unrecognized_keys' && first.keys && first.keys.length > 0) {
    const names = first.keys.map((key) => formatParam(first.path.concat(key))!);
    return unsupported(
      names[0]!,
      `Unrecognized request argument${names.length > 1 ? 's' : ''} supplied: ${names.join(', ')}. ` +
        'Bedrock Bridge rejects fields it cannot honour rather than ignoring them; see docs/compatibility.md for what is supported.',
    );
  }
  const { issue, path } = deepestIssue(first, []);
  let fieldPath = path;
  if (issue.note === 'No matching discriminator' && issue.discriminator && path[path.length - 1] !== issue.discriminator) {
    fieldPath = path.concat(issue.discriminator);
  }
  return invalidRequest(describe(issue, fieldPath, body), formatParam(fieldPath));
}

export function unsupported(param: string, message: string): OpenAIError {
  return invalidRequest(message, param, 'unsupported_parameter');
}

/** Fields Bedrock has nothing for: any non-null value is a 400 with this message. */
const REJECTED_UNLESS_NULL = {
  seed: 'seed is not supported: Bedrock has no sampling seed, so the answer could not be made reproducible.',
  prediction: 'prediction (Predicted Outputs) is not supported by Bedrock.',
  verbosity: 'verbosity is not supported by Bedrock; ask for the length you want in the prompt instead.',
  audio: 'Audio output is not supported.',
  functions: "The legacy 'functions' parameter is not supported; use 'tools'.",
  function_call: "The legacy 'function_call' parameter is not supported; use 'tool_choice'.",
  web_search_options: 'web_search_options is not supported.',
} as const satisfies Partial<Record<keyof ChatCompletionRequest, string>>;

/** What Bedrock's on-demand invocation gives anyway; other tiers are billed differently (see docs). */
export const ACCEPTED_SERVICE_TIERS = new Set(['auto', 'default']);

function checkUnsupported(request: ChatCompletionRequest): void {
  if (request.n != null && request.n > 1) throw unsupported('n', 'n > 1 is not supported by Bedrock; request one choice at a time.');
  if (request.logprobs === true) throw unsupported('logprobs', 'logprobs is not supported by Bedrock.');
  if (request.top_logprobs != null && request.top_logprobs > 0) throw unsupported('top_logprobs', 'top_logprobs is not supported by Bedrock.');
  for (const field of Object.keys(REJECTED_UNLESS_NULL) as (keyof typeof REJECTED_UNLESS_NULL)[]) {
    if (request[field] != null) throw unsupported(field, REJECTED_UNLESS_NULL[field]);
  }
  if (request.modalities && request.modalities.some((m) => m !== 'text')) {
    throw unsupported('modalities', "Only the 'text' output modality is supported.");
  }
  if (request.store === true) throw unsupported('store', 'store: true is not supported: Bedrock Bridge does not store completions.');
  if (request.service_tier != null && !ACCEPTED_SERVICE_TIERS.has(request.service_tier)) {
    throw unsupported('service_tier', `service_tier '${request.service_tier}' is not supported; only 'auto' and 'default' are.`);
  }
  if (request.logit_bias != null && Object.keys(request.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias is not supported by Bedrock.');
  if (request.presence_penalty != null && request.presence_penalty !== 0) {
    throw unsupported('presence_penalty', 'presence_penalty is not supported by Bedrock (only 0 is accepted).');
  }
  if (request.frequency_penalty != null && request.frequency_penalty !== 0) {
    throw unsupported('frequency_penalty', 'frequency_penalty is not supported by Bedrock (only 0 is accepted).');
  }
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.role === 'assistant' && message.function_call != null) {
      throw unsupported(`messages[${i}].function_call`, "The legacy 'function_call' field is not supported; use 'tool_calls'.");
    }
  }
}

export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const result = chatCompletionRequestSchema.safeParse(body);
  if (!result.success) throw zodToOpenAIError(result.error, body);
  checkUnsupported(result.data);
  return result.data;
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const result = embeddingsRequestSchema.safeParse(body);
  if (!result.success) throw zodToOpenAIError(result.error, body);
  embeddingTexts(result.data); // token arrays and empty input: 400 now, before any model lookup
  return result.data;
}
