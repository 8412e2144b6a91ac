/**
 * Bedrock ConverseStream events -> Responses API stream events (SSE text), one translator per
 * response. Also builds the final response object, so a non-streamed Converse answer goes through
 * the same code (see toResponse): both give the same items.
 *
 * Event order (OpenAI's): response.created, response.in_progress, then per output item
 * output_item.added, its parts and deltas, output_item.done with the full item, and finally one of
 * response.completed / response.incomplete / response.failed. Every event carries a sequence_number
 * counting from 0. There is no `data: [DONE]`.
 */
import type { ContentBlock, ConverseCommandOutput, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { throwStreamException } from './chat-stream.ts';
import { fromBedrockError } from './openai-errors.ts';
import type { TokenUsage } from './request-events.ts';
import { encodeReasoning } from './responses-reasoning.ts';
import { CUSTOM_TOOL_INPUT, type ResponsesPlan } from './responses-request.ts';
import {
  outcomeOf,
  outputItemId,
  responseErrorOf,
  responseShell,
  toResponsesUsage,
  type CustomToolCallItem,
  type FunctionCallItem,
  type MessageItem,
  type Outcome,
  type OutputItem,
  type ReasoningItem,
  type ResponseContext,
  type ResponseObject,
} from './responses-output.ts';
import { emptyTokenUsage, tokenUsageOf } from './usage.ts';

const KIND_MESSAGE = 0;
const KIND_REASONING = 1;
const KIND_FUNCTION = 2;
const KIND_CUSTOM = 3;
const KIND_STRUCTURED = 4;
const KIND_DROPPED = 5;

interface OpenItem {
  kind: number;
  outputIndex: number;
  item: OutputItem | null;
  /** Text, arguments (JSON), or reasoning text so far. */
  text: string;
  signature: string;
  redacted: Uint8Array | null;
}

const TRUNCATED: Outcome = {
  status: 'failed',
  incomplete: null,
  error: { code: 'server_error', message: 'Bedrock ended the stream before the answer was complete.' },
};

/** Roughly four characters to a token: the live log's estimate until Bedrock's own count arrives. */
const CHARS_PER_TOKEN = 4;

export class ResponsesStreamTranslator {
  readonly #plan: ResponsesPlan;
  readonly #context: ResponseContext;
  readonly #response: ResponseObject;
  readonly #blocks: (OpenItem | undefined)[] = [];
  #sequence = 0;
  #toolCalls = 0;
  #heldText = '';
  #structured = false;
  #stopReason: string | undefined;
  #usage: TokenUsage = emptyTokenUsage();
  #outputChars = 0;
  #content = false;
  #ended = false;
  /** False when only the final response is wanted (a non-streamed answer): no event text is made. */
  readonly #events: boolean;

  constructor(plan: ResponsesPlan, context: ResponseContext, options: { events?: boolean } = {}) {
    this.#plan = plan;
    this.#context = context;
    this.#response = responseShell(context);
    this.#events = options.events ?? true;
  }

  get usage(): TokenUsage {
    return this.#usage;
  }

  /** Output tokens so far: Bedrock's count once it came, an estimate before. */
  get outputTokens(): number {
    return this.#usage.outputTokens > 0 ? this.#usage.outputTokens : Math.ceil(this.#outputChars / CHARS_PER_TOKEN);
  }

  /** Whether any output (text, reasoning, a tool call) has been sent yet. */
  get sentContent(): boolean {
    return this.#content;
  }

  /** The response as it stands (final after finish() or fail()). */
  get response(): ResponseObject {
    return this.#response;
  }

  #event(type: string, fields: Record<string, unknown>): string {
    if (!this.#events) return '';
    const data = JSON.stringify({ type, ...fields, sequence_number: this.#sequence++ });
    return `event: ${type}\ndata: ${data}\n\n`;
  }

  #snapshot(): ResponseObject {
    return { ...this.#response, output: [...this.#response.output] };
  }

  /** response.created and response.in_progress. */
  start(): string {
    const snapshot = this.#snapshot();
    return this.#event('response.created', { response: snapshot }) + this.#event('response.in_progress', { response: snapshot });
  }

  #open(index: number, kind: number, item: OutputItem | null): { state: OpenItem; text: string } {
    const state: OpenItem = { kind, outputIndex: this.#response.output.length, item, text: '', signature: '', redacted: null };
    this.#blocks[index] = state;
    if (!item) return { state, text: '' };
    this.#content = true;
    this.#response.output.push(item);
    let text = this.#event('response.output_item.added', { output_index: state.outputIndex, item });
    if (kind === KIND_MESSAGE || kind === KIND_STRUCTURED) {
      text += this.#event('response.content_part.added', {
        item_id: item.id,
        output_index: state.outputIndex,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    }
    return { state, text };
  }

  #messageItem(): MessageItem {
    return { id: outputItemId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] };
  }

  #textDelta(state: OpenItem, delta: string): string {
    state.text += delta;
    this.#outputChars += delta.length;
    return this.#event('response.output_text.delta', { item_id: state.item!.id, output_index: state.outputIndex, content_index: 0, delta, logprobs: [] });
  }

  /** Closes an item: its done events, then output_item.done with the full item. */
  #close(state: OpenItem, status: 'completed' | 'incomplete'): string {
    const item = state.item;
    if (!item) return '';
    let text = '';
    const index = state.outputIndex;
    if (item.type === 'message') {
      const part = { type: 'output_text' as const, text: state.text, annotations: [] as never[], logprobs: [] as never[] };
      item.content = [part];
      item.status = status;
      text += this.#event('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: state.text, logprobs: [] });
      text += this.#event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part });
    } else if (item.type === 'function_call') {
      item.arguments = state.text === '' ? '{}' : state.text;
      item.status = status;
      text += this.#event('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
    } else if (item.type === 'custom_tool_call') {
      item.input = customInputOf(state.text);
      item.status = status;
      // Bedrock streams the tool's JSON input; the free-form text inside it is known only now.
      if (item.input !== '') text += this.#event('response.custom_tool_call_input.delta', { item_id: item.id, output_index: index, delta: item.input });
      text += this.#event('response.custom_tool_call_input.done', { item_id: item.id, output_index: index, input: item.input });
    } else {
      if (state.text !== '') {
        const part = { type: 'summary_text' as const, text: state.text };
        item.summary = [part];
        text += this.#event('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text: state.text });
        text += this.#event('response.reasoning_summary_part.done', { item_id: item.id, output_index: index, summary_index: 0, part });
      }
      const block = state.redacted ? { redacted: state.redacted } : state.signature !== '' ? { text: state.text, signature: state.signature } : null;
      if (block && this.#context.includeReasoning) item.encrypted_content = encodeReasoning(block);
      // Kept for a stored response even when the client did not ask for it.
      if (block) reasoningBlocks.set(item, block);
    }
    return text + this.#event('response.output_item.done', { output_index: index, item });
  }

  #releaseHeldText(): string {
    if (this.#heldText === '' || this.#structured) {
      this.#heldText = '';
      return '';
    }
    const held = this.#heldText;
    this.#heldText = '';
    const { state, text } = this.#open(-1, KIND_MESSAGE, this.#messageItem());
    return text + this.#textDelta(state, held) + this.#close(state, 'completed');
  }

  /** SSE text for one Bedrock event ('' when it has nothing to say). Throws in-stream exceptions as OpenAIError. */
  push(event: ConverseStreamOutput): string {
    if (event.contentBlockDelta) {
      const { delta, contentBlockIndex } = event.contentBlockDelta;
      const index = contentBlockIndex ?? 0;
      if (!delta) return '';
      let state = this.#blocks[index];
      if (delta.text !== undefined) {
        if (delta.text === '') return '';
        if (this.#plan.structuredOutputTool !== null) {
          // Text next to the answer tool would not be the JSON asked for: held until we know.
          this.#heldText += delta.text;
          return '';
        }
        let text = '';
        if (!state) ({ state, text } = this.#open(index, KIND_MESSAGE, this.#messageItem()));
        return text + this.#textDelta(state, delta.text);
      }
      if (delta.toolUse) {
        const input = delta.toolUse.input ?? '';
        if (!state || input === '') return '';
        if (state.kind === KIND_STRUCTURED) return this.#textDelta(state, input);
        if (state.kind === KIND_DROPPED) return '';
        state.text += input;
        this.#outputChars += input.length;
        if (state.kind === KIND_CUSTOM) return '';
        return this.#event('response.function_call_arguments.delta', { item_id: state.item!.id, output_index: state.outputIndex, delta: input });
      }
      const reasoning = delta.reasoningContent;
      if (reasoning) {
        let text = '';
        if (!state) {
          const item: ReasoningItem = { id: outputItemId('rs'), type: 'reasoning', summary: [] };
          ({ state, text } = this.#open(index, KIND_REASONING, item));
        }
        if (reasoning.text !== undefined && reasoning.text !== '') {
          if (state.text === '') {
            text += this.#event('response.reasoning_summary_part.added', {
              item_id: state.item!.id,
              output_index: state.outputIndex,
              summary_index: 0,
              part: { type: 'summary_text', text: '' },
            });
          }
          state.text += reasoning.text;
          this.#outputChars += reasoning.text.length;
          text += this.#event('response.reasoning_summary_text.delta', { item_id: state.item!.id, output_index: state.outputIndex, summary_index: 0, delta: reasoning.text });
        } else if (reasoning.signature !== undefined) {
          state.signature += reasoning.signature;
        } else if (reasoning.redactedContent !== undefined) {
          state.redacted = reasoning.redactedContent;
        }
        return text;
      }
      return '';
    }
    if (event.contentBlockStart) {
      const { start, contentBlockIndex } = event.contentBlockStart;
      const use = start?.toolUse;
      if (!use) return '';
      const index = contentBlockIndex ?? 0;
      const name = use.name ?? '';
      if (this.#plan.structuredOutputTool !== null && name === this.#plan.structuredOutputTool) {
        this.#heldText = '';
        this.#structured = true;
        return this.#open(index, KIND_STRUCTURED, this.#messageItem()).text;
      }
      const held = this.#releaseHeldText();
      if (this.#plan.singleToolCall && this.#toolCalls > 0) {
        this.#open(index, KIND_DROPPED, null);
        return held;
      }
      this.#toolCalls++;
      const binding = this.#plan.tools.get(name) ?? { kind: 'function' as const, name, namespace: null };
      const callId = use.toolUseId ?? '';
      let item: FunctionCallItem | CustomToolCallItem;
      if (binding.kind === 'custom') {
        item = { id: outputItemId('ctc'), type: 'custom_tool_call', status: 'in_progress', call_id: callId, name: binding.name, input: '' };
      } else {
        item = { id: outputItemId('fc'), type: 'function_call', status: 'in_progress', call_id: callId, name: binding.name, arguments: '' };
      }
      if (binding.namespace !== null) item.namespace = binding.namespace;
      return held + this.#open(index, binding.kind === 'custom' ? KIND_CUSTOM : KIND_FUNCTION, item).text;
    }
    if (event.contentBlockStop) {
      const index = event.contentBlockStop.contentBlockIndex ?? 0;
      const state = this.#blocks[index];
      if (!state) return '';
      this.#blocks[index] = undefined;
      return this.#close(state, 'completed');
    }
    if (event.messageStop) {
      this.#stopReason = event.messageStop.stopReason;
      return this.#releaseHeldText();
    }
    if (event.metadata) {
      this.#usage = tokenUsageOf(event.metadata.usage);
      return '';
    }
    throwStreamException(event);
    return '';
  }

  /** Closes what is still open and settles the response; the terminal event's SSE text. */
  finish(): string {
    if (this.#ended) return '';
    this.#ended = true;
    // A stream that ends without messageStop was cut short upstream: not a complete answer.
    const outcome = this.#stopReason === undefined ? TRUNCATED : outcomeOf(this.#stopReason);
    let text = '';
    for (const state of this.#blocks) if (state) text += this.#close(state, 'incomplete');
    this.#blocks.length = 0;
    const response = this.#response;
    response.status = outcome.status;
    response.incomplete_details = outcome.incomplete;
    response.error = outcome.error;
    response.usage = toResponsesUsage(this.#usage);
    const type = outcome.status === 'completed' ? 'response.completed' : outcome.status === 'incomplete' ? 'response.incomplete' : 'response.failed';
    return text + this.#event(type, { response: this.#snapshot() });
  }

  /** The stream failed: response.failed with OpenAI's error code (never a stream that just stops). */
  fail(error: unknown): string {
    if (this.#ended) return '';
    this.#ended = true;
    const response = this.#response;
    response.status = 'failed';
    response.error = responseErrorOf(fromBedrockError(error));
    response.usage = toResponsesUsage(this.#usage);
    return this.#event('response.failed', { response: this.#snapshot() });
  }
}

/** The thinking block behind each reasoning item, kept off the wire (see reasoningBlockOf). */
const reasoningBlocks = new WeakMap<ReasoningItem, { text: string; signature: string } | { redacted: Uint8Array }>();

/** The thinking block a reasoning item of a response built here came from, for storing it. */
export function reasoningBlockOf(item: ReasoningItem): { text: string; signature: string } | { redacted: Uint8Array } | undefined {
  return reasoningBlocks.get(item);
}

/** A custom tool's free-form input, from the JSON object Bedrock's tool call carried it in. */
function customInputOf(json: string): string {
  try {
    const value = JSON.parse(json) as Record<string, unknown>;
    const input = value[CUSTOM_TOOL_INPUT];
    return typeof input === 'string' ? input : JSON.stringify(value);
  } catch {
    return json;
  }
}

/** The events a streamed answer made of these blocks would have been. */
function* asStreamEvents(output: ConverseCommandOutput): Generator<ConverseStreamOutput> {
  const blocks: ContentBlock[] = output.output?.message?.content ?? [];
  for (let index = 0; index < blocks.length; index++) {
    const block = blocks[index]!;
    const contentBlockIndex = index;
    if (block.text !== undefined) {
      yield { contentBlockDelta: { contentBlockIndex, delta: { text: block.text } } };
    } else if (block.toolUse) {
      yield { contentBlockStart: { contentBlockIndex, start: { toolUse: { toolUseId: block.toolUse.toolUseId, name: block.toolUse.name } } } };
      yield { contentBlockDelta: { contentBlockIndex, delta: { toolUse: { input: JSON.stringify(block.toolUse.input ?? {}) } } } };
    } else if (block.reasoningContent) {
      const reasoning = block.reasoningContent;
      if (reasoning.reasoningText) {
        yield { contentBlockDelta: { contentBlockIndex, delta: { reasoningContent: { text: reasoning.reasoningText.text ?? '' } } } };
        if (reasoning.reasoningText.signature) yield { contentBlockDelta: { contentBlockIndex, delta: { reasoningContent: { signature: reasoning.reasoningText.signature } } } };
      } else if (reasoning.redactedContent) {
        yield { contentBlockDelta: { contentBlockIndex, delta: { reasoningContent: { redactedContent: reasoning.redactedContent } } } };
      }
    } else {
      continue;
    }
    yield { contentBlockStop: { contentBlockIndex } };
  }
  yield { messageStop: { stopReason: output.stopReason } };
  yield { metadata: { usage: output.usage, metrics: undefined } };
}

/** A non-streamed Converse answer as the response object. */
export function toResponse(output: ConverseCommandOutput, plan: ResponsesPlan, context: ResponseContext): { response: ResponseObject; usage: TokenUsage } {
  const translator = new ResponsesStreamTranslator(plan, context, { events: false });
  for (const event of asStreamEvents(output)) translator.push(event);
  translator.finish();
  return { response: translator.response, usage: translator.usage };
}
