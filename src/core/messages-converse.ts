/**
 * Anthropic's Messages shape <-> Bedrock Converse, for models other than Claude on /v1/messages (Nova,
 * Llama, Mistral, …), which have no native Anthropic body. What Converse cannot carry for such a model
 * (thinking blocks and their signatures, betas, metadata, server tools, …) is left out and named in
 * `dropped`; content it cannot take at all (an image by URL) is a 400.
 */
import type {
  ContentBlock,
  ContentBlockDeltaEvent,
  ContentBlockStartEvent,
  ConverseCommandInput,
  ConverseCommandOutput,
  ConverseStreamOutput,
  Message,
  SystemContentBlock,
  Tool,
  ToolResultContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { imageFormatOfMediaType } from './image-format.ts';
import { modelTraits } from './model-catalog.ts';
import { invalidRequest } from './openai-errors.ts';
import type { TokenUsage } from './request-events.ts';
import { tokenUsageOf } from './usage.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export interface ConverseFromMessages {
  input: ConverseCommandInput;
  dropped: string[];
}

// Fields Converse carries for any model; the rest of a Messages request is dropped by name.
const CARRIED = new Set(['model', 'stream', 'max_tokens', 'messages', 'system', 'temperature', 'top_p', 'stop_sequences', 'tools', 'tool_choice']);

function bytesOf(data: unknown, what: string): Uint8Array {
  if (typeof data !== 'string') throw invalidRequest(`${what}: source.data must be base64 text.`);
  return Buffer.from(data, 'base64');
}

function imageBlock(source: Json, path: string): ContentBlock.ImageMember {
  if (source?.type !== 'base64') throw invalidRequest(`${path}: only base64 images can be sent to this model through Bedrock (got source.type '${String(source?.type)}').`);
  const format = imageFormatOfMediaType(String(source.media_type ?? '').toLowerCase());
  if (!format) throw invalidRequest(`${path}: image type '${String(source.media_type)}' is not one Bedrock takes (png, jpeg, gif, webp).`);
  return { image: { format, source: { bytes: bytesOf(source.data, path) } } };
}

function toolResultContent(content: Json, path: string): ToolResultContentBlock[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) return [];
  return content.map((part: Json, k: number): ToolResultContentBlock => {
    if (part?.type === 'image') return imageBlock(part.source, `${path}.content.${k}`);
    return { text: typeof part?.text === 'string' ? part.text : JSON.stringify(part) };
  });
}

function contentBlocks(content: Json, path: string, cache: boolean, dropped: string[]): ContentBlock[] {
  if (typeof content === 'string') return [{ text: content }];
  const out: ContentBlock[] = [];
  (content as Json[]).forEach((block, j) => {
    const at = `${path}.${j}`;
    switch (block?.type) {
      case 'text':
        out.push({ text: String(block.text ?? '') });
        break;
      case 'image':
        out.push(imageBlock(block.source, at));
        break;
      case 'document':
        if (block.source?.type === 'text') out.push({ text: String(block.source.data ?? '') });
        else if (block.source?.type === 'base64') out.push({ document: { format: 'pdf', name: `document-${j + 1}`, source: { bytes: bytesOf(block.source.data, at) } } });
        else throw invalidRequest(`${at}: only base64 PDF and text documents can be sent to this model through Bedrock.`);
        break;
      case 'tool_use':
        out.push({ toolUse: { toolUseId: String(block.id), name: String(block.name), input: block.input ?? {} } });
        break;
      case 'tool_result':
        out.push({ toolResult: { toolUseId: String(block.tool_use_id), content: toolResultContent(block.content, at), ...(block.is_error ? { status: 'error' as const } : {}) } });
        break;
      default:
        // thinking / redacted_thinking (Claude's, signed), server tool results, …
        dropped.push(`messages[].content[]:${String(block?.type)}`);
        return;
    }
    if (cache && block.cache_control) out.push({ cachePoint: { type: 'default' } });
  });
  return out;
}

function systemBlocks(system: Json, cache: boolean): SystemContentBlock[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return [{ text: system }];
  const out: SystemContentBlock[] = [];
  for (const block of system as Json[]) {
    out.push({ text: String(block?.text ?? '') });
    if (cache && block?.cache_control) out.push({ cachePoint: { type: 'default' } });
  }
  return out;
}

/** The Converse request for a Messages request to `modelId` (a model without Anthropic's native body). */
export function messagesToConverse(request: Record<string, Json>, modelId: string, effectiveModelId: string): ConverseFromMessages {
  const dropped: string[] = [];
  const cache = modelTraits(effectiveModelId).supportsPromptCache;
  for (const key of Object.keys(request)) if (!CARRIED.has(key) && request[key] !== undefined) dropped.push(key);

  const system = systemBlocks(request.system, cache);
  const messages: Message[] = [];
  (request.messages as Json[]).forEach((message, i) => {
    // A mid-conversation system message: Converse has one system prompt, so it joins it.
    if (message.role === 'system') {
      for (const block of contentBlocks(message.content, `messages.${i}.content`, false, dropped)) if ('text' in block) system.push({ text: block.text! });
      return;
    }
    const content = contentBlocks(message.content, `messages.${i}.content`, cache, dropped);
    if (content.length > 0) messages.push({ role: message.role, content });
  });

  const input: ConverseCommandInput = { modelId, messages, inferenceConfig: { maxTokens: request.max_tokens } };
  if (system.length > 0) input.system = system;
  if (request.temperature !== undefined) input.inferenceConfig!.temperature = request.temperature;
  if (request.top_p !== undefined) input.inferenceConfig!.topP = request.top_p;
  if (Array.isArray(request.stop_sequences) && request.stop_sequences.length > 0) input.inferenceConfig!.stopSequences = request.stop_sequences;

  const choice = request.tool_choice;
  if (Array.isArray(request.tools) && request.tools.length > 0 && choice?.type !== 'none') {
    const tools: Tool[] = [];
    for (const tool of request.tools as Json[]) {
      if (tool?.input_schema === undefined) {
        dropped.push(`tools:${String(tool?.type ?? tool?.name)}`);
        continue;
      }
      tools.push({ toolSpec: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), inputSchema: { json: tool.input_schema } } });
    }
    if (tools.length > 0) {
      input.toolConfig = { tools };
      if (choice?.type === 'any') input.toolConfig.toolChoice = { any: {} };
      else if (choice?.type === 'tool') input.toolConfig.toolChoice = { tool: { name: choice.name } };
      else if (choice?.type === 'auto') input.toolConfig.toolChoice = { auto: {} };
    }
  } else if (choice?.type === 'none' && Array.isArray(request.tools) && request.tools.length > 0) {
    // Converse has no "none": the tools are not offered at all, unless earlier turns used them.
    if (messages.some((message) => message.content?.some((block) => block.toolUse || block.toolResult))) {
      throw invalidRequest('tool_choice: "none" cannot be honoured by this model through Bedrock once tools were used in the conversation.', 'tool_choice');
    }
  }
  return { input, dropped };
}

/** Converse's stop reasons in Anthropic's words. */
export function anthropicStopReason(stopReason: string | undefined): string {
  switch (stopReason) {
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'model_context_window_exceeded':
      return stopReason;
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function anthropicUsage(usage: TokenUsage): Record<string, number> {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
  };
}

export interface MessageContext {
  id: string;
  model: string;
}

/** A Converse answer as Anthropic's `message`. */
export function converseToMessage(output: ConverseCommandOutput, context: MessageContext): Record<string, Json> {
  const content: Json[] = [];
  for (const block of output.output?.message?.content ?? []) {
    if (block.text !== undefined) content.push({ type: 'text', text: block.text });
    else if (block.toolUse) content.push({ type: 'tool_use', id: block.toolUse.toolUseId, name: block.toolUse.name, input: block.toolUse.input ?? {} });
    else if (block.reasoningContent?.reasoningText) {
      content.push({ type: 'thinking', thinking: block.reasoningContent.reasoningText.text ?? '', signature: block.reasoningContent.reasoningText.signature ?? '' });
    }
  }
  return {
    id: context.id,
    type: 'message',
    role: 'assistant',
    model: context.model,
    content,
    stop_reason: anthropicStopReason(output.stopReason),
    stop_sequence: null,
    usage: anthropicUsage(tokenUsageOf(output.usage)),
  };
}

type BlockKind = 'text' | 'thinking' | 'tool_use';

/** ConverseStream events -> Anthropic stream events, one translator per stream. */
export class MessagesStreamTranslator {
  readonly #context: MessageContext;
  /** Converse contentBlockIndex -> [Anthropic index, kind]. */
  readonly #blocks = new Map<number, [number, BlockKind]>();
  #open: number | null = null;
  #stopReason = 'end_turn';
  usage: TokenUsage = tokenUsageOf(undefined);

  constructor(context: MessageContext) {
    this.#context = context;
  }

  #close(): Json[] {
    if (this.#open === null) return [];
    const index = this.#open;
    this.#open = null;
    return [{ type: 'content_block_stop', index }];
  }

  #start(converseIndex: number, kind: BlockKind, block: Json): Json[] {
    const events = this.#close();
    const index = this.#blocks.size;
    this.#blocks.set(converseIndex, [index, kind]);
    this.#open = index;
    events.push({ type: 'content_block_start', index, content_block: block });
    return events;
  }

  #delta(event: ContentBlockDeltaEvent): Json[] {
    const at = event.contentBlockIndex ?? 0;
    const delta = event.delta;
    if (!delta) return [];
    const kind: BlockKind | null = delta.text !== undefined ? 'text' : delta.reasoningContent ? 'thinking' : delta.toolUse ? 'tool_use' : null;
    if (kind === null) return [];
    let known = this.#blocks.get(at);
    const events: Json[] = [];
    if (!known) {
      if (kind === 'tool_use') return []; // a tool block always starts with contentBlockStart
      events.push(...this.#start(at, kind, kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' }));
      known = this.#blocks.get(at)!;
    }
    const index = known[0];
    if (delta.text !== undefined) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.text } });
    else if (delta.toolUse) events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: delta.toolUse.input ?? '' } });
    else if (delta.reasoningContent?.text !== undefined) events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: delta.reasoningContent.text } });
    else if (delta.reasoningContent?.signature !== undefined) events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: delta.reasoningContent.signature } });
    return events;
  }

  #toolStart(event: ContentBlockStartEvent): Json[] {
    const use = event.start?.toolUse;
    if (!use) return [];
    return this.#start(event.contentBlockIndex ?? 0, 'tool_use', { type: 'tool_use', id: use.toolUseId, name: use.name, input: {} });
  }

  /** The Anthropic events for one Converse stream event (in-stream exceptions are thrown by the SDK). */
  push(event: ConverseStreamOutput): Json[] {
    if (event.contentBlockDelta) return this.#delta(event.contentBlockDelta);
    if (event.contentBlockStart) return this.#toolStart(event.contentBlockStart);
    if (event.contentBlockStop) return this.#close();
    if (event.messageStart) {
      return [
        {
          type: 'message_start',
          message: { id: this.#context.id, type: 'message', role: 'assistant', model: this.#context.model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(this.usage) },
        },
      ];
    }
    if (event.messageStop) {
      this.#stopReason = anthropicStopReason(event.messageStop.stopReason);
      return this.#close();
    }
    if (event.metadata) {
      this.usage = tokenUsageOf(event.metadata.usage);
      return [
        { type: 'message_delta', delta: { stop_reason: this.#stopReason, stop_sequence: null }, usage: anthropicUsage(this.usage) },
        { type: 'message_stop' },
      ];
    }
    return [];
  }
}
