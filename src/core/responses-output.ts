/** The Responses API's response object, output items and usage, built from what Bedrock returned. */
import { newRequestId } from './ids.ts';
import type { OpenAIError } from './openai-errors.ts';
import type { TokenUsage } from './request-events.ts';
import type { ResponsesRequest } from './responses-schemas.ts';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageItem {
  id: string;
  type: 'message';
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: OutputText[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  arguments: string;
  namespace?: string;
}

export interface CustomToolCallItem {
  id: string;
  type: 'custom_tool_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  call_id: string;
  name: string;
  input: string;
  namespace?: string;
}

export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  summary: { type: 'summary_text'; text: string }[];
  encrypted_content?: string;
}

export type OutputItem = MessageItem | FunctionCallItem | CustomToolCallItem | ReasoningItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  service_tier: string;
  store: boolean;
  temperature: number | null;
  text: { format: unknown; verbosity?: string };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponsesUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

export interface ResponseContext {
  /** `resp_<request id>` */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model name the client asked for, echoed back. */
  model: string;
  request: ResponsesRequest;
  /** Whether reasoning items carry encrypted_content (include: ['reasoning.encrypted_content'], or a stored response). */
  includeReasoning: boolean;
}

/** A new output item id: `msg_…`, `fc_…`, `ctc_…`, `rs_…`. */
export function outputItemId(prefix: string): string {
  return `${prefix}_${newRequestId().replaceAll('-', '')}`;
}

/** The response before any output: what `response.created` carries, and the shell of the final one. */
export function responseShell(context: ResponseContext): ResponseObject {
  const request = context.request;
  const text: ResponseObject['text'] = { format: request.text?.format ?? { type: 'text' } };
  if (request.text?.verbosity) text.verbosity = request.text.verbosity;
  return {
    id: context.id,
    object: 'response',
    created_at: context.createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: context.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    service_tier: 'default',
    store: request.store ?? true,
    temperature: request.temperature ?? null,
    text,
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** input_tokens counts cache reads and writes too (Bedrock's inputTokens does not); cached_tokens are the reads. */
export function toResponsesUsage(usage: TokenUsage): ResponsesUsage {
  const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens },
    output_tokens: usage.outputTokens,
    // Converse does not report thinking tokens apart from the answer's.
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + usage.outputTokens,
  };
}

export interface Outcome {
  status: ResponseStatus;
  incomplete: { reason: string } | null;
  error: { code: string; message: string } | null;
}

/** Bedrock's stop reason -> the response's status (see docs/compatibility.md). */
export function outcomeOf(stopReason: string | undefined | null): Outcome {
  switch (stopReason) {
    case 'max_tokens':
      return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' }, error: null };
    case 'content_filtered':
    case 'guardrail_intervened':
      return { status: 'incomplete', incomplete: { reason: 'content_filter' }, error: null };
    case 'model_context_window_exceeded':
      return {
        status: 'failed',
        incomplete: null,
        error: { code: 'context_length_exceeded', message: "The conversation reached the model's context window." },
      };
    default:
      return { status: 'completed', incomplete: null, error: null };
  }
}

/**
 * A failure as the `error` of a failed response, with the codes OpenAI clients act on: Codex retries
 * `rate_limit_exceeded` (reading "try again in Ns") and compacts on `context_length_exceeded`.
 */
export function responseErrorOf(error: OpenAIError): { code: string; message: string } {
  if (error.status === 429) {
    const retryAfter = Number(error.headers['retry-after']);
    const hint = Number.isFinite(retryAfter) && retryAfter > 0 ? ` Please try again in ${retryAfter}s.` : '';
    return { code: 'rate_limit_exceeded', message: error.message + hint };
  }
  if (error.code === 'context_length_exceeded') return { code: 'context_length_exceeded', message: error.message };
  if (error.status >= 500) return { code: 'server_error', message: error.message };
  return { code: error.code ?? error.type, message: error.message };
}
