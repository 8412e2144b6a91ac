/**
 * OpenAI chat completion request -> Bedrock Converse / ConverseStream input. Pure: the only I/O
 * (fetching http(s) images) goes through the injected ImageResolver. See docs/compatibility.md.
 */
import type {
  ContentBlock,
  ConverseStreamCommandInput,
  InferenceConfiguration,
  Message,
  OutputConfig,
  SystemContentBlock,
  Tool,
  ToolChoice,
} from '@aws-sdk/client-bedrock-runtime';
import type { ChatCompletionRequest, ChatMessage, CacheControl } from './openai-schemas.ts';
import { modelTraits, type ModelTraits } from './model-catalog.ts';
import { invalidRequest, OpenAIError } from './openai-errors.ts';
import { imageFormatOfMediaType } from './image-format.ts';
import type { ImageFormat } from './image-format.ts';
import { messageOf } from './error-message.ts';

export type { ImageFormat };
export type ImageResolver = (url: string) => Promise<{ format: ImageFormat; bytes: Uint8Array }>;

export interface ConversePlan {
  /** Also valid as ConverseCommandInput. */
  input: ConverseStreamCommandInput;
  /** Name of the forced tool standing in for response_format; its input becomes the message content. */
  structuredOutputTool: string | null;
  /** parallel_tool_calls: false: only the first tool call of a response is passed on. Always set by buildConverseRequest. */
  singleToolCall?: boolean;
  /** Extended thinking was requested from the model (reasoning_effort). Always set by buildConverseRequest. */
  thinking?: boolean;
}

/** Budgets for Anthropic extended thinking per reasoning_effort (Anthropic's minimum is 1024). */
export const THINKING_BUDGETS: Record<string, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};
/** Room left for the answer when thinking is on and the client set no (or too small a) max_tokens. */
export const THINKING_ANSWER_TOKENS = 8192;
/** Anthropic allows at most 4 cache breakpoints per request. */
export const MAX_CACHE_POINTS = 4;
/** Converse rejects a conversation that starts with an assistant turn; this user turn goes first. */
export const LEADING_USER_PLACEHOLDER = '.';
/** Converse rejects blank text; a tool that returned nothing is reported as this. */
export const EMPTY_TOOL_RESULT = '(empty)';
export const STRUCTURED_TOOL_NAME = 'json_response';

const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const TRAILING_WHITESPACE = /\s+$/;
const BLANK = /^\s*$/;

/** Decodes a base64 `data:image/...` URI. Throws a 400 naming `param` when it is not one we accept. */
export function decodeDataUri(url: string, param: string): { format: ImageFormat; bytes: Uint8Array } {
  const comma = url.indexOf(',');
  if (comma < 0) throw invalidRequest('Malformed data URI for an image.', param);
  const header = url.slice(5, comma).toLowerCase();
  if (!header.endsWith(';base64')) throw invalidRequest('Image data URIs must be base64-encoded (data:image/png;base64,...).', param);
  const semicolon = header.indexOf(';');
  const mime = header.slice(0, semicolon).trim();
  const format = imageFormatOfMediaType(mime);
  if (!format) throw invalidRequest(`Image type '${mime || 'unknown'}' is not supported; use PNG, JPEG, GIF or WebP.`, param);
  const bytes = Buffer.from(url.slice(comma + 1), 'base64');
  if (bytes.length === 0) throw invalidRequest('The image data URI is empty.', param);
  return { format, bytes };
}

export function cachePoint(control: CacheControl): ContentBlock.CachePointMember {
  return { cachePoint: control.ttl ? { type: 'default', ttl: control.ttl } : { type: 'default' } };
}

export interface PendingImage {
  block: ContentBlock.ImageMember;
  url: string;
  param: string;
}

/** A conversation being translated: Converse system blocks and turns, and what later steps need to know. */
export interface ConverseBuilder {
  system: SystemContentBlock[];
  turns: Message[];
  images: PendingImage[];
  caching: boolean;
  hasToolBlocks: boolean;
  /** tool_call id -> function name, for the textual form of tool history. */
  toolNames: Map<string, string>;
}

export function pushBlocks(builder: ConverseBuilder, role: 'user' | 'assistant', blocks: ContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = builder.turns[builder.turns.length - 1];
  if (last && last.role === role) {
    last.content!.push(...blocks);
  } else {
    builder.turns.push({ role, content: blocks });
  }
}

function systemBlocks(builder: ConverseBuilder, message: Extract<ChatMessage, { role: 'system' | 'developer' }>): void {
  const content = message.content;
  if (typeof content === 'string') {
    if (!BLANK.test(content)) builder.system.push({ text: content });
  } else {
    for (const part of content) {
      if (!BLANK.test(part.text)) builder.system.push({ text: part.text });
      if (part.cache_control && builder.caching) builder.system.push(cachePoint(part.cache_control) as SystemContentBlock);
    }
  }
  if (message.cache_control && builder.caching) builder.system.push(cachePoint(message.cache_control) as SystemContentBlock);
}

function userBlocks(builder: ConverseBuilder, message: Extract<ChatMessage, { role: 'user' }>, index: number): ContentBlock[] {
  const content = message.content;
  const blocks: ContentBlock[] = [];
  if (typeof content === 'string') {
    if (!BLANK.test(content)) blocks.push({ text: content });
  } else {
    for (let j = 0; j < content.length; j++) {
      const part = content[j]!;
      if (part.type === 'text') {
        if (!BLANK.test(part.text)) blocks.push({ text: part.text });
      } else {
        const url = typeof part.image_url === 'string' ? part.image_url : part.image_url.url;
        const param = `messages[${index}].content[${j}].image_url.url`;
        if (url.startsWith('data:')) {
          const { format, bytes } = decodeDataUri(url, param);
          blocks.push({ image: { format, source: { bytes } } });
        } else if (url.startsWith('https://') || url.startsWith('http://')) {
          const block: ContentBlock.ImageMember = { image: { format: 'png', source: { bytes: new Uint8Array(0) } } };
          builder.images.push({ block, url, param });
          blocks.push(block);
        } else {
          throw invalidRequest('Image URLs must be data: URIs or http(s) URLs.', param);
        }
      }
      if (part.cache_control && builder.caching) blocks.push(cachePoint(part.cache_control));
    }
  }
  if (message.cache_control && builder.caching && blocks.length > 0) blocks.push(cachePoint(message.cache_control));
  return blocks;
}

function assistantBlocks(builder: ConverseBuilder, message: Extract<ChatMessage, { role: 'assistant' }>, index: number): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (!BLANK.test(content)) blocks.push({ text: content });
  } else if (content) {
    for (const part of content) {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (!BLANK.test(text)) blocks.push({ text });
      if (part.cache_control && builder.caching) blocks.push(cachePoint(part.cache_control));
    }
  } else if (message.refusal && !BLANK.test(message.refusal)) {
    blocks.push({ text: message.refusal });
  }
  const calls = message.tool_calls;
  if (calls) {
    for (let j = 0; j < calls.length; j++) {
      const call = calls[j]!;
      const raw = call.function.arguments;
      let input: unknown = {};
      if (raw != null && !BLANK.test(raw)) {
        try {
          input = JSON.parse(raw);
        } catch {
          throw invalidRequest(`The arguments of tool call '${call.id}' are not valid JSON.`, `messages[${index}].tool_calls[${j}].function.arguments`);
        }
        if (input === null || typeof input !== 'object' || Array.isArray(input)) {
          throw invalidRequest(`The arguments of tool call '${call.id}' must be a JSON object.`, `messages[${index}].tool_calls[${j}].function.arguments`);
        }
      }
      builder.toolNames.set(call.id, call.function.name);
      builder.hasToolBlocks = true;
      blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: input as Record<string, never> } });
    }
  }
  if (message.cache_control && builder.caching && blocks.length > 0) blocks.push(cachePoint(message.cache_control));
  return blocks;
}

function toolBlocks(builder: ConverseBuilder, message: Extract<ChatMessage, { role: 'tool' }>): ContentBlock[] {
  const content = message.content;
  let text: string;
  let control: CacheControl | null | undefined = message.cache_control;
  if (typeof content === 'string') {
    text = content;
  } else {
    text = '';
    for (const part of content) {
      text += part.text;
      if (part.cache_control) control = part.cache_control;
    }
  }
  builder.hasToolBlocks = true;
  const blocks: ContentBlock[] = [
    { toolResult: { toolUseId: message.tool_call_id, content: [{ text: BLANK.test(text) ? EMPTY_TOOL_RESULT : text }] } },
  ];
  if (control && builder.caching) blocks.push(cachePoint(control));
  return blocks;
}

/**
 * Anthropic wants tool results first in a user turn. When a tool message was merged after user text,
 * move the toolResult blocks (with the cache points that follow them) to the front, keeping order.
 */
function toolResultsFirst(turn: Message): void {
  const content = turn.content!;
  let seenOther = false;
  let needed = false;
  for (const block of content) {
    if (block.toolResult) {
      if (seenOther) {
        needed = true;
        break;
      }
    } else if (!block.cachePoint) {
      seenOther = true;
    }
  }
  if (!needed) return;
  const results: ContentBlock[] = [];
  const others: ContentBlock[] = [];
  let previousWasResult = false;
  for (const block of content) {
    if (block.toolResult || (block.cachePoint && previousWasResult)) {
      results.push(block);
      previousWasResult = true;
    } else {
      others.push(block);
      previousWasResult = false;
    }
  }
  turn.content = results.concat(others);
}

/** Result reported for a tool call the client never answered (e.g. the user cancelled it). */
export const MISSING_TOOL_RESULT = '(no result: the tool call was not completed)';

/**
 * Converse requires every toolUse to be answered by a toolResult in the very next user turn, and
 * every toolResult to answer a toolUse of the assistant turn just before. Editors break both when a
 * user cancels a tool or history is trimmed: missing results are filled in, orphan results become text.
 */
function pairToolResults(turns: Message[]): void {
  for (let t = 0; t < turns.length; t++) {
    const turn = turns[t]!;
    if (turn.role !== 'user') continue;
    const previous = t > 0 ? turns[t - 1] : undefined;
    const expected = new Set<string>();
    if (previous) for (const block of previous.content!) if (block.toolUse) expected.add(block.toolUse.toolUseId!);
    const content = turn.content!;
    for (let i = 0; i < content.length; i++) {
      const block = content[i]!;
      if (!block.toolResult) continue;
      const id = block.toolResult.toolUseId!;
      if (expected.has(id)) {
        expected.delete(id);
      } else {
        const text = block.toolResult.content!.map((c) => ('text' in c && c.text !== undefined ? c.text : JSON.stringify(c))).join('');
        content[i] = { text: `[Result of tool call ${id}: ${text}]` };
      }
    }
    if (expected.size > 0) {
      const filler: ContentBlock[] = [];
      for (const id of expected) filler.push({ toolResult: { toolUseId: id, content: [{ text: MISSING_TOOL_RESULT }] } });
      turn.content = filler.concat(content);
    }
  }
  // An assistant turn with tool calls followed by another assistant turn cannot happen (turns merge);
  // one followed by nothing is a prefill, which Bedrock rejects with its own message.
}

/** With no tools on offer (tool_choice none, or tools omitted), tool history is given to the model as text. */
function textifyToolHistory(turns: Message[], toolNames: Map<string, string>): void {
  for (const turn of turns) {
    const content = turn.content!;
    for (let i = 0; i < content.length; i++) {
      const block = content[i]!;
      if (block.toolUse) {
        content[i] = { text: `[Called tool ${block.toolUse.name} (id ${block.toolUse.toolUseId}) with arguments ${JSON.stringify(block.toolUse.input)}]` };
      } else if (block.toolResult) {
        const id = block.toolResult.toolUseId!;
        const name = toolNames.get(id);
        const text = block.toolResult.content!.map((c) => ('text' in c && c.text !== undefined ? c.text : JSON.stringify(c))).join('');
        content[i] = { text: `[Result of tool ${name ?? 'call'} (id ${id}): ${text}]` };
      }
    }
  }
}

function limitCachePoints(system: SystemContentBlock[], tools: Tool[] | undefined, turns: Message[]): void {
  let count = 0;
  for (const block of system) if (block.cachePoint) count++;
  if (tools) for (const tool of tools) if (tool.cachePoint) count++;
  for (const turn of turns) for (const block of turn.content!) if (block.cachePoint) count++;
  if (count <= MAX_CACHE_POINTS) return;
  // Keep the latest breakpoints in the conversation (they cover the longest prefix); drop the earliest.
  for (const turn of turns) {
    const content = turn.content!;
    for (let i = 0; i < content.length && count > MAX_CACHE_POINTS; i++) {
      if (content[i]!.cachePoint) {
        content.splice(i, 1);
        i--;
        count--;
      }
    }
    if (count <= MAX_CACHE_POINTS) return;
  }
  for (let i = 0; i < system.length && count > MAX_CACHE_POINTS; i++) {
    if (system[i]!.cachePoint) {
      system.splice(i, 1);
      i--;
      count--;
    }
  }
  if (tools) {
    for (let i = 0; i < tools.length && count > MAX_CACHE_POINTS; i++) {
      if (tools[i]!.cachePoint) {
        tools.splice(i, 1);
        i--;
        count--;
      }
    }
  }
}

async function resolveImages(images: PendingImage[], resolveImage: ImageResolver): Promise<void> {
  await Promise.all(
    images.map(async (pending) => {
      let image: { format: ImageFormat; bytes: Uint8Array };
      try {
        image = await resolveImage(pending.url);
      } catch (error) {
        if (error instanceof OpenAIError) {
          // A rejected image is a fault of that content part: name it precisely.
          if (error.status === 400 && error.param !== pending.param) {
            throw new OpenAIError(400, error.message, { type: error.type, code: error.code, param: pending.param, headers: error.headers });
          }
          throw error;
        }
        throw invalidRequest(`Could not fetch the image: ${messageOf(error)}`, pending.param, 'image_fetch_failed');
      }
      pending.block.image = { format: image.format, source: { bytes: image.bytes } };
    }),
  );
}

function structuredToolName(preferred: string | undefined, taken: Set<string>): string {
  let name = preferred && TOOL_NAME_PATTERN.test(preferred) ? preferred : STRUCTURED_TOOL_NAME;
  while (taken.has(name)) name = `${name}_`.slice(-64);
  return name;
}

/** A new, empty conversation for a model with these traits. */
export function newConverseBuilder(traits: ModelTraits): ConverseBuilder {
  return { system: [], turns: [], images: [], caching: traits.supportsPromptCache, hasToolBlocks: false, toolNames: new Map() };
}

/**
 * `traitsModelId`: the model whose traits apply, when `modelId` does not name it (an application
 * inference profile's ARN is opaque; the caller looks up the model behind it).
 */
export async function buildConverseRequest(request: ChatCompletionRequest, modelId: string, resolveImage: ImageResolver, traitsModelId = modelId): Promise<ConversePlan> {
  const traits: ModelTraits = modelTraits(traitsModelId);
  const builder = newConverseBuilder(traits);

  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    switch (message.role) {
      case 'system':
      case 'developer':
        systemBlocks(builder, message);
        break;
      case 'user':
        pushBlocks(builder, 'user', userBlocks(builder, message, i));
        break;
      case 'assistant':
        pushBlocks(builder, 'assistant', assistantBlocks(builder, message, i));
        break;
      case 'tool':
        pushBlocks(builder, 'user', toolBlocks(builder, message));
        break;
    }
  }
  const choice = request.tool_choice ?? null;
  const format = request.response_format;
  return finishConverseRequest(builder, {
    modelId,
    traits,
    tools: (request.tools ?? []).map((tool) => ({ ...tool.function, cacheControl: tool.cache_control })),
    toolChoice: choice === null || typeof choice === 'string' ? choice : { name: choice.function.name },
    effort: request.reasoning_effort ?? null,
    topK: request.top_k ?? undefined,
    format: !format ? null : format.type === 'json_schema' ? { type: 'json_schema', ...format.json_schema } : { type: format.type },
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    temperature: request.temperature ?? undefined,
    topP: request.top_p ?? undefined,
    stop: request.stop,
    parallelToolCalls: request.parallel_tool_calls,
    params: CHAT_PARAMS,
  }, resolveImage);
}

/** A function tool the model may call, whichever API declared it. */
export interface ToolDefinition {
  name: string;
  description?: string | null | undefined;
  parameters?: Record<string, unknown> | null | undefined;
  strict?: boolean | null | undefined;
  cacheControl?: CacheControl | null | undefined;
}

/** tool_choice in either API: none, auto, required, or one named tool. */
export type ToolChoiceSpec = 'none' | 'auto' | 'required' | { name: string } | null;

/** response_format (Chat Completions) / text.format (Responses). */
export interface OutputFormatSpec {
  type: 'text' | 'json_object' | 'json_schema';
  name?: string | undefined;
  description?: string | null | undefined;
  schema?: Record<string, unknown> | null | undefined;
  strict?: boolean | null | undefined;
}

/** How the calling API names its fields, for error messages. */
export interface RequestParamNames {
  messages: string;
  toolChoice: string;
  reasoning: string;
  format: string;
}

const CHAT_PARAMS: RequestParamNames = { messages: 'messages', toolChoice: 'tool_choice', reasoning: 'reasoning_effort', format: 'response_format' };

/** Everything of a request besides its conversation, in the terms both OpenAI APIs share. */
export interface ConverseRequestSpec {
  modelId: string;
  traits: ModelTraits;
  tools: readonly ToolDefinition[];
  toolChoice: ToolChoiceSpec;
  effort: string | null;
  topK?: number | undefined;
  format: OutputFormatSpec | null;
  /** Absent: Bedrock's default for the model, unless `maxTokensDefault` says otherwise. */
  maxTokens?: number | undefined;
  /** `model-limit`: with no maxTokens, ask for the model's whole output limit where known (Responses). */
  maxTokensDefault?: 'model-default' | 'model-limit';
  temperature?: number | undefined;
  topP?: number | undefined;
  stop?: string | string[] | null | undefined;
  parallelToolCalls?: boolean | null | undefined;
  params: RequestParamNames;
}

/** Converse requires alternation: drops turns left empty and merges the neighbours that then meet. */
function compactTurns(turns: Message[]): void {
  let out = 0;
  for (const turn of turns) {
    if (turn.content!.length === 0) continue;
    const previous = out > 0 ? turns[out - 1] : undefined;
    if (previous && previous.role === turn.role) previous.content!.push(...turn.content!);
    else turns[out++] = turn;
  }
  turns.length = out;
}

/** Thinking blocks restored from history are sent only when thinking is on for this request. */
function dropReasoningBlocks(turns: Message[]): void {
  let dropped = false;
  for (const turn of turns) {
    const content = turn.content!;
    const kept = content.filter((block) => !block.reasoningContent);
    if (kept.length !== content.length) {
      turn.content = kept;
      dropped = true;
    }
  }
  if (dropped) compactTurns(turns);
}

/**
 * The API-independent part of a Converse request: tool history pairing, tools and tool_choice,
 * reasoning, structured output, caching limits, images and inference configuration.
 */
export async function finishConverseRequest(builder: ConverseBuilder, spec: ConverseRequestSpec, resolveImage: ImageResolver): Promise<ConversePlan> {
  const { modelId, traits, params } = spec;
  const turns = builder.turns;
  let system = builder.system;

  if (turns.length === 0) {
    // Only system/developer messages: Converse needs a user turn, so the instructions become it.
    const text = system.filter((b) => b.text !== undefined).map((b) => b.text).join('\n\n');
    if (text === '') throw invalidRequest('The messages contain no text.', params.messages);
    turns.push({ role: 'user', content: [{ text }] });
    system = [];
  } else if (turns[0]!.role === 'assistant') {
    turns.unshift({ role: 'user', content: [{ text: LEADING_USER_PLACEHOLDER }] });
  }
  if (builder.hasToolBlocks) {
    pairToolResults(turns);
    for (const turn of turns) if (turn.role === 'user') toolResultsFirst(turn);
  }

  // --- tools and tool_choice ---
  const userTools = spec.tools;
  const choice = spec.toolChoice;
  const offered = choice === 'none' ? [] : userTools;
  const toolNames = new Set<string>();
  for (const tool of userTools) toolNames.add(tool.name);
  if (choice !== null && typeof choice === 'object' && !toolNames.has(choice.name)) {
    throw invalidRequest(`${params.toolChoice} names the function '${choice.name}', which is not among the tools.`, params.toolChoice);
  }
  if (choice === 'required' && userTools.length === 0) {
    throw invalidRequest(`${params.toolChoice} 'required' needs at least one tool in 'tools'.`, params.toolChoice);
  }

  // --- reasoning ---
  const effort = spec.effort;
  let thinkingBudget = 0;
  const additional: Record<string, unknown> = {};
  if (effort && effort !== 'none') {
    if (traits.reasoning === 'anthropic-thinking') {
      thinkingBudget = THINKING_BUDGETS[effort] ?? THINKING_BUDGETS.medium!;
    } else if (traits.reasoning === 'reasoning-effort') {
      additional.reasoning_effort = effort === 'minimal' ? 'low' : effort === 'xhigh' ? 'high' : effort;
    } else if (traits.reasoning === null) {
      throw invalidRequest(`${params.reasoning} is not supported for the model '${modelId}'.`, params.reasoning, 'unsupported_parameter');
    }
  }
  const topK = spec.topK;
  if (topK !== undefined && !traits.anthropic) {
    // Converse has no topK; only Claude is known to take it as an additional field.
    throw invalidRequest(`top_k is not supported for the model '${modelId}'; only Anthropic Claude models take it.`, 'top_k', 'unsupported_parameter');
  }
  if (thinkingBudget > 0) {
    // Claude requires the last assistant turn of a tool loop to start with its signed thinking block.
    // Chat Completions clients never send it back (Responses clients may, as a reasoning item):
    // without it, thinking is skipped for such a continuation request.
    let lastAssistant: Message | undefined;
    for (let i = turns.length - 1; i >= 0; i--) {
      if (turns[i]!.role === 'assistant') {
        lastAssistant = turns[i];
        break;
      }
    }
    if (lastAssistant && lastAssistant.content!.some((b) => b.toolUse) && !lastAssistant.content![0]!.reasoningContent) thinkingBudget = 0;
  }
  const thinking = thinkingBudget > 0;
  if (!thinking) dropReasoningBlocks(turns);
  if (thinking && (choice === 'required' || (choice !== null && typeof choice === 'object'))) {
    throw invalidRequest(
      `${params.reasoning} cannot be combined with ${params.toolChoice} 'required' or a named function on Claude: extended thinking does not allow forced tool use.`,
      params.toolChoice,
    );
  }

  // --- response_format ---
  let outputConfig: OutputConfig | undefined;
  let structuredTool: Tool | null = null;
  let structuredName: string | null = null;
  const format = spec.format;
  const forcedByClient = choice === 'required' || (choice !== null && typeof choice === 'object');
  if (format && format.type !== 'text') {
    const schema = format.type === 'json_schema' ? format.schema : undefined;
    if (format.type === 'json_schema' && traits.supportsNativeStructuredOutput && format.strict === true && schema) {
      const jsonSchema: { schema: string; name?: string; description?: string } = { schema: JSON.stringify(schema), name: format.name };
      if (format.description) jsonSchema.description = format.description;
      outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
    } else if (!forcedByClient) {
      if (thinking) {
        throw invalidRequest(
          `${params.format} with ${params.reasoning} needs native structured output (a json_schema with strict: true on Claude 4.1 or newer); ` +
            'this model would need a forced tool call, which extended thinking does not allow.',
          params.format,
        );
      }
      structuredName = structuredToolName(format.type === 'json_schema' ? format.name : undefined, toolNames);
      const description =
        (format.type === 'json_schema' && format.description ? `${format.description}\n\n` : '') +
        'Give your final answer by calling this tool with it as the input. Always call this tool to answer.';
      structuredTool = {
        toolSpec: {
          name: structuredName,
          description,
          inputSchema: { json: (schema ?? { type: 'object' }) as Record<string, never> },
        },
      };
    }
    // With tool_choice 'required' or a named function the answer is a tool call, which has no content
    // to format: response_format does not apply to that turn.
  }

  let tools: Tool[] | undefined;
  let toolChoice: ToolChoice | undefined;
  if (offered.length > 0 || structuredTool) {
    tools = [];
    for (const fn of offered) {
      const spec: { name: string; description?: string; inputSchema: { json: Record<string, never> }; strict?: boolean } = {
        name: fn.name,
        inputSchema: { json: (fn.parameters ?? { type: 'object', properties: {} }) as Record<string, never> },
      };
      if (fn.description) spec.description = fn.description;
      if (fn.strict === true && traits.supportsNativeStructuredOutput) spec.strict = true;
      tools.push({ toolSpec: spec });
      if (fn.cacheControl && builder.caching) tools.push({ cachePoint: fn.cacheControl.ttl ? { type: 'default', ttl: fn.cacheControl.ttl } : { type: 'default' } });
    }
    if (structuredTool) {
      tools.push(structuredTool);
      toolChoice = { any: {} };
    } else if (choice === 'required') {
      toolChoice = { any: {} };
    } else if (choice !== null && typeof choice === 'object') {
      toolChoice = { tool: { name: choice.name } };
    } else if (choice === 'auto') {
      toolChoice = { auto: {} };
    }
  } else if (builder.hasToolBlocks) {
    textifyToolHistory(turns, builder.toolNames);
  }

  // An assistant turn that ends the conversation is a prefill; Claude rejects trailing whitespace there.
  const lastTurn = turns[turns.length - 1]!;
  if (lastTurn.role === 'assistant') {
    const content = lastTurn.content!;
    const lastBlock = content[content.length - 1];
    if (lastBlock && lastBlock.text !== undefined) {
      const trimmed = lastBlock.text.replace(TRAILING_WHITESPACE, '');
      content[content.length - 1] = { text: trimmed };
    }
  }

  if (builder.caching) limitCachePoints(system, tools, turns);
  if (builder.images.length > 0) await resolveImages(builder.images, resolveImage);

  // --- inference configuration ---
  const inference: InferenceConfiguration = {};
  // A Responses client that sets no limit (Codex never does) gets the model's whole output limit.
  const limitByDefault = spec.maxTokens === undefined && spec.maxTokensDefault === 'model-limit' && traits.maxOutputTokens !== null;
  let maxTokens = limitByDefault ? traits.maxOutputTokens! : spec.maxTokens;
  let temperature = spec.temperature;
  let topP = spec.topP;
  if (temperature !== undefined && traits.anthropic && temperature > 1) temperature = 1; // OpenAI allows 0-2, Claude 0-1
  if (temperature !== undefined && topP !== undefined && traits.rejectsTemperatureWithTopP) {
    // Claude 4.1+ answer 400 to both; temperature is the knob users (and editors) actually set.
    topP = undefined;
  }
  if (thinking) {
    // Extended thinking requires the default temperature, top_p and top_k; the budget must fit under max_tokens.
    temperature = undefined;
    topP = undefined;
    if (maxTokens === undefined || maxTokens <= thinkingBudget) {
      const answerTokens = limitByDefault ? THINKING_ANSWER_TOKENS : (maxTokens ?? THINKING_ANSWER_TOKENS);
      maxTokens = thinkingBudget + answerTokens;
      const limit = traits.maxOutputTokens;
      if (limit !== null && maxTokens > limit) {
        // Bedrock rejects a maxTokens over the model's limit (xhigh's budget alone is over Opus 4's
        // 32000): the budget gives way so the answer keeps its room, down to Anthropic's minimum.
        thinkingBudget = Math.max(THINKING_BUDGETS.minimal!, Math.min(thinkingBudget, limit - answerTokens));
        maxTokens = limit;
      }
    }
    additional.thinking = { type: 'enabled', budget_tokens: thinkingBudget };
  } else if (topK !== undefined) {
    additional.top_k = topK;
  }
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  if (temperature !== undefined) inference.temperature = temperature;
  if (topP !== undefined) inference.topP = topP;
  const stop = spec.stop;
  if (stop != null) {
    const sequences = (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0);
    if (sequences.length > 0) inference.stopSequences = sequences;
  }

  const input: ConverseStreamCommandInput = { modelId, messages: turns };
  if (system.length > 0) input.system = system;
  if (maxTokens !== undefined || temperature !== undefined || topP !== undefined || inference.stopSequences) input.inferenceConfig = inference;
  if (tools) {
    input.toolConfig = toolChoice ? { tools, toolChoice } : { tools };
  }
  if (outputConfig) input.outputConfig = outputConfig;
  for (const _ in additional) {
    input.additionalModelRequestFields = additional as Record<string, never>;
    break;
  }

  return {
    input,
    structuredOutputTool: structuredName,
    singleToolCall: spec.parallelToolCalls === false,
    thinking,
  };
}
