/**
 * Validation of `POST /v1/responses` bodies (OpenAI's Responses API), built once at module load.
 *
 * The policy is the Chat Completions one (see openai-schemas.ts): a top-level field is honoured or
 * rejected with a 400 naming it. The exceptions, each documented in docs/compatibility.md, are what
 * Codex sends on every request and cannot be honoured on Bedrock: `text.verbosity`, the hosted
 * `web_search` tool and the client-side `tool_search` tool are accepted and not sent.
 */
import { z } from 'zod';
import { invalidRequest } from './openai-errors.ts';
import { ACCEPTED_SERVICE_TIERS, unsupported, zodToOpenAIError } from './openai-schemas.ts';

const inputTextSchema = z.looseObject({ type: z.literal('input_text'), text: z.string() });
const outputTextSchema = z.looseObject({ type: z.literal('output_text'), text: z.string() });
const refusalSchema = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const inputImageSchema = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.string().nullish(),
});
const inputFileSchema = z.looseObject({ type: z.literal('input_file') });

const messagePartSchema = z.discriminatedUnion('type', [inputTextSchema, outputTextSchema, refusalSchema, inputImageSchema, inputFileSchema]);
const toolOutputPartSchema = z.discriminatedUnion('type', [inputTextSchema, outputTextSchema, inputImageSchema, inputFileSchema]);

const messageItemSchema = z.looseObject({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(messagePartSchema)]),
});
const functionCallSchema = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  namespace: z.string().nullish(),
});
const toolOutputSchema = z.union([z.string(), z.array(toolOutputPartSchema)]);
const functionCallOutputSchema = z.looseObject({ type: z.literal('function_call_output'), call_id: z.string().min(1), output: toolOutputSchema });
const customToolCallSchema = z.looseObject({
  type: z.literal('custom_tool_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  input: z.string(),
  namespace: z.string().nullish(),
});
const customToolCallOutputSchema = z.looseObject({ type: z.literal('custom_tool_call_output'), call_id: z.string().min(1), output: toolOutputSchema });
const reasoningItemSchema = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().nullish(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});

export const INPUT_ITEM_TYPES = ['message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning'] as const;

const inputItemSchema = z.discriminatedUnion('type', [
  messageItemSchema,
  functionCallSchema,
  functionCallOutputSchema,
  customToolCallSchema,
  customToolCallOutputSchema,
  reasoningItemSchema,
]);

const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const customToolSchema = z.looseObject({
  type: z.literal('custom'),
  name: z.string().min(1),
  description: z.string().nullish(),
  format: z
    .union([
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('grammar'), syntax: z.string(), definition: z.string() }),
    ])
    .nullish(),
});
const namespaceToolSchema = z.looseObject({
  type: z.literal('namespace'),
  name: z.string().min(1),
  description: z.string().nullish(),
  tools: z.array(z.discriminatedUnion('type', [functionToolSchema, customToolSchema])),
});
/** Tools Bedrock cannot run but a client may offer without needing them (see DROPPED_TOOL_TYPES). */
const droppedToolSchema = z.looseObject({ type: z.enum(['web_search', 'web_search_preview', 'tool_search']) });

const toolSchema = z.discriminatedUnion('type', [functionToolSchema, customToolSchema, namespaceToolSchema, droppedToolSchema]);

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.enum(['function', 'custom']), name: z.string().min(1), namespace: z.string().nullish() }),
  z.looseObject({ type: z.string() }),
]);

const textFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    description: z.string().nullish(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
  }),
]);

/** reasoning.effort: OpenAI's levels, plus `max` (newer Codex catalogues), treated as xhigh. */
const effortSchema = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']);

export const responsesRequestSchema = z.strictObject({
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(inputItemSchema)]).nullish(),
  instructions: z.string().nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  reasoning: z.looseObject({ effort: effortSchema.nullish(), summary: z.enum(['auto', 'concise', 'detailed']).nullish(), generate_summary: z.unknown().optional() }).nullish(),
  text: z.looseObject({ format: textFormatSchema.nullish(), verbosity: z.enum(['low', 'medium', 'high']).nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_obfuscation: z.boolean().nullish() }).nullish(),
  previous_response_id: z.string().min(1).nullish(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
  service_tier: z.string().nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  top_logprobs: z.int().nullish(),
  // Labels of the request: they cannot change the answer, so they are accepted and not sent.
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  /** Codex's own labels of a turn. */
  client_metadata: z.record(z.string(), z.unknown()).nullish(),
  // Rejected whenever set: Bedrock Bridge has no equivalent.
  background: z.boolean().nullish(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  max_tool_calls: z.unknown().optional(),
  context_management: z.unknown().optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type ResponseInputItem = z.infer<typeof inputItemSchema>;
export type ResponseTool = z.infer<typeof toolSchema>;
export type ResponseFunctionTool = z.infer<typeof functionToolSchema>;
export type ResponseCustomTool = z.infer<typeof customToolSchema>;
export type ToolOutput = z.infer<typeof toolOutputSchema>;

/** `include` values that are honoured, or that only concern tools which never run here. */
const ACCEPTED_INCLUDES = new Set([
  'reasoning.encrypted_content',
  'message.input_image.image_url',
  'web_search_call.results',
  'web_search_call.action.sources',
  'file_search_call.results',
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
]);

const REJECTED_UNLESS_NULL = {
  conversation: 'conversation (the Conversations API) is not supported; chain turns with previous_response_id instead.',
  prompt: 'prompt (reusable prompt templates) is not supported; send instructions and input instead.',
  max_tool_calls: 'max_tool_calls is not supported: the model calls tools one response at a time, under your control.',
  context_management: 'context_management is not supported.',
} as const satisfies Partial<Record<keyof ResponsesRequest, string>>;

/** Hosted tools OpenAI runs on its side; Bedrock has none of them. */
const HOSTED_TOOLS = new Set([
  'file_search',
  'mcp',
  'code_interpreter',
  'image_generation',
  'computer_use_preview',
  'computer_use',
  'local_shell',
  'shell',
  'apply_patch',
]);

const SUPPORTED_TOOL_TYPES = "'function', 'custom' and 'namespace' (web_search and tool_search are accepted and not offered to the model)";

/** Tool types checked before zod, so a hosted tool gets a message saying what it is. */
function checkToolTypes(tools: unknown): void {
  if (!Array.isArray(tools)) return;
  for (let i = 0; i < tools.length; i++) {
    const type = (tools[i] as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') continue;
    if (HOSTED_TOOLS.has(type)) {
      throw unsupported(`tools[${i}].type`, `The hosted tool '${type}' is not supported: Bedrock runs no tools on its side. Declare a 'function' tool and run it yourself.`);
    }
    if (!['function', 'custom', 'namespace', 'web_search', 'web_search_preview', 'tool_search'].includes(type)) {
      throw unsupported(`tools[${i}].type`, `tools[${i}]: tool type '${type}' is not supported; supported: ${SUPPORTED_TOOL_TYPES}.`);
    }
  }
}

/** Item types checked before zod: an item of a hosted tool's history gets a message naming it. */
function checkItemTypes(input: unknown): void {
  if (!Array.isArray(input)) return;
  for (let i = 0; i < input.length; i++) {
    const type = (input[i] as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !(INPUT_ITEM_TYPES as readonly string[]).includes(type)) {
      throw unsupported(
        `input[${i}].type`,
        `input[${i}]: items of type '${type}' are not supported (supported: ${INPUT_ITEM_TYPES.map((t) => `'${t}'`).join(', ')}).`,
      );
    }
  }
}

function checkUnsupported(request: ResponsesRequest): void {
  for (const field of Object.keys(REJECTED_UNLESS_NULL) as (keyof typeof REJECTED_UNLESS_NULL)[]) {
    if (request[field] != null) throw unsupported(field, REJECTED_UNLESS_NULL[field]);
  }
  if (request.background === true) throw unsupported('background', 'background responses are not supported; use stream: true for long answers.');
  if (request.truncation === 'auto') {
    throw unsupported('truncation', "truncation 'auto' is not supported: Bedrock Bridge never drops conversation items on its own. Use 'disabled' (the default).");
  }
  if (request.top_logprobs != null && request.top_logprobs > 0) throw unsupported('top_logprobs', 'top_logprobs is not supported by Bedrock.');
  if (request.service_tier != null && !ACCEPTED_SERVICE_TIERS.has(request.service_tier)) {
    throw unsupported('service_tier', `service_tier '${request.service_tier}' is not supported; only 'auto' and 'default' are.`);
  }
  const include = request.include ?? [];
  for (let i = 0; i < include.length; i++) {
    if (!ACCEPTED_INCLUDES.has(include[i]!)) {
      throw unsupported(`include[${i}]`, `include '${include[i]}' is not supported${include[i] === 'message.output_text.logprobs' ? ': Bedrock returns no logprobs' : ''}.`);
    }
  }
  const choice = request.tool_choice;
  if (choice != null && typeof choice === 'object' && choice.type !== 'function' && choice.type !== 'custom') {
    throw unsupported('tool_choice', `tool_choice of type '${choice.type}' is not supported; use 'none', 'auto', 'required' or a function or custom tool by name.`);
  }
  if (request.input == null && request.previous_response_id == null) throw invalidRequest("Missing required field 'input'.", 'input');
}

/** An input item written without `type` (OpenAI's "easy input message") is a message. */
function withItemTypes(body: Record<string, unknown>): Record<string, unknown> {
  const input = body.input;
  if (!Array.isArray(input) || input.every((item) => (item as { type?: unknown } | null)?.type !== undefined)) return body;
  return {
    ...body,
    input: input.map((item) =>
      item !== null && typeof item === 'object' && (item as { type?: unknown }).type === undefined && 'role' in item ? { ...item, type: 'message' } : item,
    ),
  };
}

export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const typed = withItemTypes(body as Record<string, unknown>);
  checkToolTypes(typed.tools);
  checkItemTypes(typed.input);
  const result = responsesRequestSchema.safeParse(typed);
  if (!result.success) throw zodToOpenAIError(result.error, typed);
  checkUnsupported(result.data);
  return result.data;
}
