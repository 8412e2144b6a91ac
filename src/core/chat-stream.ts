/**
 * Bedrock ConverseStream events -> OpenAI chat.completion.chunk objects, one translator per stream.
 *
 * OpenAI's tool_calls[].index counts the tool calls of the response from 0 in order of appearance;
 * it is not Bedrock's contentBlockIndex (a text block usually comes first).
 */
import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ConversePlan } from './chat-request.ts';
import type { CompletionContext, FinishReason } from './chat-response.ts';
import { finishReasonOf } from './chat-response.ts';
import { fromBedrockError } from './openai-errors.ts';
import type { TokenUsage } from './request-events.ts';
import { emptyTokenUsage, tokenUsageOf, toOpenAIUsage, type OpenAIUsage } from './usage.ts';

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  tool_calls?: ChunkToolCallDelta[];
}

export interface ChunkChoice {
  index: 0;
  delta: ChunkDelta;
  logprobs: null;
  finish_reason: FinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  /** Present (null, then the totals in the last chunk) only when stream_options.include_usage. */
  usage?: OpenAIUsage | null;
}

const BLOCK_TEXT = 0;
const BLOCK_TOOL = 1;
const BLOCK_STRUCTURED = 2;
const BLOCK_DROPPED = 3;

interface BlockState {
  kind: number;
  toolIndex: number;
}

const STREAM_EXCEPTIONS: Record<string, string> = {
  internalServerException: 'InternalServerException',
  modelStreamErrorException: 'ModelStreamErrorException',
  validationException: 'ValidationException',
  throttlingException: 'ThrottlingException',
  serviceUnavailableException: 'ServiceUnavailableException',
};

/**
 * In-stream exception events (which the SDK normally throws itself) are thrown as OpenAIError; other
 * events pass.
 */
export function throwStreamException(event: ConverseStreamOutput): void {
  for (const key in STREAM_EXCEPTIONS) {
    const exception = (event as unknown as Record<string, { message?: string } | undefined>)[key];
    if (exception) {
      throw fromBedrockError({ name: STREAM_EXCEPTIONS[key], message: exception.message ?? STREAM_EXCEPTIONS[key] });
    }
  }
}

export class ChatStreamTranslator {
  readonly #plan: ConversePlan;
  readonly #id: string;
  readonly #created: number;
  readonly #model: string;
  readonly #includeUsage: boolean;
  readonly #blocks: (BlockState | undefined)[] = [];
  #roleSent = false;
  #toolCalls = 0;
  #usage: TokenUsage = emptyTokenUsage();
  #finishReason: FinishReason | null = null;
  /** Text held back while a structured-output answer may still come (see push). */
  #heldText = '';
  #structured = false;

  constructor(plan: ConversePlan, context: CompletionContext & { includeUsage: boolean }) {
    this.#plan = plan;
    this.#id = context.id;
    this.#created = context.created;
    this.#model = context.model;
    this.#includeUsage = context.includeUsage;
  }

  get usage(): TokenUsage {
    return this.#usage;
  }

  get finishReason(): string | null {
    return this.#finishReason;
  }

  /** Number of tool calls passed on so far. */
  get toolCallCount(): number {
    return this.#toolCalls;
  }

  #chunk(delta: ChunkDelta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    if (!this.#roleSent) {
      delta.role = 'assistant';
      this.#roleSent = true;
    }
    const chunk: ChatCompletionChunk = {
      id: this.#id,
      object: 'chat.completion.chunk',
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.#includeUsage) chunk.usage = null;
    return chunk;
  }

  #releaseHeldText(): ChatCompletionChunk[] {
    if (this.#heldText === '' || this.#structured) {
      this.#heldText = '';
      return [];
    }
    const text = this.#heldText;
    this.#heldText = '';
    return [this.#chunk({ content: text })];
  }

  /**
   * Zero or more chunks for one Bedrock event. In-stream exception events (which the SDK normally
   * throws itself) are thrown as OpenAIError.
   */
  push(event: ConverseStreamOutput): ChatCompletionChunk[] {
    if (event.contentBlockDelta) {
      const { delta, contentBlockIndex } = event.contentBlockDelta;
      if (!delta) return [];
      if (delta.text !== undefined) {
        if (delta.text === '') return [];
        if (this.#plan.structuredOutputTool !== null) {
          // Text next to the answer tool would corrupt the JSON content: hold it until we know.
          this.#heldText += delta.text;
          return [];
        }
        return [this.#chunk({ content: delta.text })];
      }
      if (delta.toolUse) {
        const state = this.#blocks[contentBlockIndex ?? 0];
        const input = delta.toolUse.input ?? '';
        if (!state || input === '') return [];
        if (state.kind === BLOCK_STRUCTURED) return [this.#chunk({ content: input })];
        if (state.kind === BLOCK_TOOL) return [this.#chunk({ tool_calls: [{ index: state.toolIndex, function: { arguments: input } }] })];
        return [];
      }
      if (delta.reasoningContent) {
        const text = delta.reasoningContent.text;
        if (text === undefined || text === '') return []; // signatures and redacted thinking are not shown
        return [this.#chunk({ reasoning_content: text })];
      }
      return [];
    }
    if (event.contentBlockStart) {
      const { start, contentBlockIndex } = event.contentBlockStart;
      const use = start?.toolUse;
      if (!use) return [];
      const index = contentBlockIndex ?? 0;
      if (this.#plan.structuredOutputTool !== null && use.name === this.#plan.structuredOutputTool) {
        this.#blocks[index] = { kind: BLOCK_STRUCTURED, toolIndex: -1 };
        this.#heldText = '';
        this.#structured = true;
        return [];
      }
      const held = this.#releaseHeldText();
      if (this.#plan.singleToolCall && this.#toolCalls > 0) {
        this.#blocks[index] = { kind: BLOCK_DROPPED, toolIndex: -1 };
        return held;
      }
      const toolIndex = this.#toolCalls++;
      this.#blocks[index] = { kind: BLOCK_TOOL, toolIndex };
      return [
        ...held,
        this.#chunk({
          tool_calls: [{ index: toolIndex, id: use.toolUseId ?? '', type: 'function', function: { name: use.name ?? '', arguments: '' } }],
        }),
      ];
    }
    if (event.messageStart) {
      if (this.#roleSent) return [];
      return [this.#chunk({ content: '' })];
    }
    if (event.contentBlockStop) return [];
    if (event.messageStop) {
      let finish = finishReasonOf(event.messageStop.stopReason);
      if (finish === 'tool_calls' && this.#toolCalls === 0) finish = 'stop';
      this.#finishReason = finish;
      const held = this.#releaseHeldText();
      held.push(this.#chunk({}, finish));
      return held;
    }
    if (event.metadata) {
      this.#usage = tokenUsageOf(event.metadata.usage);
      return [];
    }
    throwStreamException(event);
    return [];
  }

  /** The final usage chunk (choices: []) when include_usage was asked for, else nothing. */
  finish(): ChatCompletionChunk[] {
    if (!this.#includeUsage) return [];
    return [
      {
        id: this.#id,
        object: 'chat.completion.chunk',
        created: this.#created,
        model: this.#model,
        choices: [],
        usage: toOpenAIUsage(this.#usage),
      },
    ];
  }
}
