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

function cachePoint(control: CacheControl): ContentBlock.CachePointMember {
  return { cachePoint: control.ttl ? { type: 'default', ttl: control.ttl } : { type: 'default' } };
}

interface PendingImage {
  block: ContentBlock.ImageMember;
  url: string;
  param: string;
}

interface Builder {
  system: SystemContentBlock[];
  turns: Message[];
  images: PendingImage[];
  caching: boolean;
  hasToolBlocks: boolean;
  /** tool_call id -> function name, for the textual form of tool history. */
  toolNames: Map<string, string>;
}

function pushBlocks(builder: Builder, role: 'user' | 'assistant', blocks: ContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = builder.turns[builder.turns.length - 1];
  if (last && last.role === role) {
    last.content!.push(...blocks);
  } else {
    builder.turns.push({ role, content: blocks });
  }
}

function systemBlocks(builder: Builder, message: Extract<ChatMessage, { role: 'system' | 'developer' }>): void {
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

function userBlocks(builder: Builder, message: Extract<ChatMessage, { role: 'user' }>, index: number): ContentBlock[] {
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

function assistantBlocks(builder: Builder, message: Extract<ChatMessage, { role: 'assistant' }>, index: number): ContentBlock[] {
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

function toolBlocks(builder: Builder, message: Extract<ChatMessage, { role: 'tool' }>): ContentBlock[] {
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

/**
 * `traitsModelId`: the model whose traits apply, when `modelId` does not name it (an application
 * inference profile's ARN is opaque; the caller looks up the model behind it).
 */
export async function buildConverseRequest(request: ChatCompletionRequest, modelId: string, resolveImage: ImageResolver, traitsModelId = modelId): Promise<ConversePlan> {
  const traits: ModelTraits = modelTraits(traitsModelId);
  const builder: Builder = {
    system: [],
    turns: [],
    images: [],
    caching: traits.supportsPromptCache,
    hasToolBlocks: false,
    toolNames: new Map(),
  };

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
  const turns = builder.turns;
  let system = builder.system;

  if (turns.length === 0) {
    // Only system/developer messages: Converse needs a user turn, so the instructions become it.
    const text = system.filter((b) => b.text !== undefined).map((b) => b.text).join('\n\n');
    if (text === '') throw invalidRequest('The messages contain no text.', 'messages');
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
  const userTools = request.tools ?? [];
  const choice = request.tool_choice ?? null;
  const offered = choice === 'none' ? [] : userTools;
  const toolNames = new Set<string>();
  for (const tool of userTools) toolNames.add(tool.function.name);
  if (choice !== null && typeof choice === 'object' && !toolNames.has(choice.function.name)) {
    throw invalidRequest(`tool_choice names the function '${choice.function.name}', which is not among the tools.`, 'tool_choice');
  }
  if (choice === 'required' && userTools.length === 0) {
    throw invalidRequest("tool_choice 'required' needs at least one tool in 'tools'.", 'tool_choice');
  }

  // --- reasoning ---
  const effort = request.reasoning_effort;
  let thinkingBudget = 0;
  const additional: Record<string, unknown> = {};
  if (effort && effort !== 'none') {
    if (traits.reasoning === 'anthropic-thinking') {
      thinkingBudget = THINKING_BUDGETS[effort] ?? THINKING_BUDGETS.medium!;
    } else if (traits.reasoning === 'reasoning-effort') {
      additional.reasoning_effort = effort === 'minimal' ? 'low' : effort === 'xhigh' ? 'high' : effort;
    } else if (traits.reasoning === null) {
      throw invalidRequest(`reasoning_effort is not supported for the model '${modelId}'.`, 'reasoning_effort', 'unsupported_parameter');
    }
  }
  const topK = request.top_k ?? undefined;
  if (topK !== undefined && !traits.anthropic) {
    // Converse has no topK; only Claude is known to take it as an additional field.
    throw invalidRequest(`top_k is not supported for the model '${modelId}'; only Anthropic Claude models take it.`, 'top_k', 'unsupported_parameter');
  }
  if (thinkingBudget > 0) {
    // Claude requires the last assistant turn of a tool loop to start with its signed thinking block,
    // which OpenAI clients do not send back. Thinking is skipped for such a continuation request.
    let lastAssistant: Message | undefined;
    for (let i = turns.length - 1; i >= 0; i--) {
      if (turns[i]!.role === 'assistant') {
        lastAssistant = turns[i];
        break;
      }
    }
    if (lastAssistant && lastAssistant.content!.some((b) => b.toolUse)) thinkingBudget = 0;
  }
  const thinking = thinkingBudget > 0;
  if (thinking && (choice === 'required' || (choice !== null && typeof choice === 'object'))) {
    throw invalidRequest(
      "reasoning_effort cannot be combined with tool_choice 'required' or a named function on Claude: extended thinking does not allow forced tool use.",
      'tool_choice',
    );
  }

  // --- response_format ---
  let outputConfig: OutputConfig | undefined;
  let structuredTool: Tool | null = null;
  let structuredName: string | null = null;
  const format = request.response_format;
  const forcedByClient = choice === 'required' || (choice !== null && typeof choice === 'object');
  if (format && format.type !== 'text') {
    const schema = format.type === 'json_schema' ? format.json_schema.schema : undefined;
    if (format.type === 'json_schema' && traits.supportsNativeStructuredOutput && format.json_schema.strict === true && schema) {
      const jsonSchema: { schema: string; name?: string; description?: string } = { schema: JSON.stringify(schema), name: format.json_schema.name };
      if (format.json_schema.description) jsonSchema.description = format.json_schema.description;
      outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
    } else if (!forcedByClient) {
      if (thinking) {
        throw invalidRequest(
          'response_format with reasoning_effort needs native structured output (a json_schema with strict: true on Claude 4.1 or newer); ' +
            'this model would need a forced tool call, which extended thinking does not allow.',
          'response_format',
        );
      }
      structuredName = structuredToolName(format.type === 'json_schema' ? format.json_schema.name : undefined, toolNames);
      const description =
        (format.type === 'json_schema' && format.json_schema.description ? `${format.json_schema.description}\n\n` : '') +
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
    for (const tool of offered) {
      const fn = tool.function;
      const spec: { name: string; description?: string; inputSchema: { json: Record<string, never> }; strict?: boolean } = {
        name: fn.name,
        inputSchema: { json: (fn.parameters ?? { type: 'object', properties: {} }) as Record<string, never> },
      };
      if (fn.description) spec.description = fn.description;
      if (fn.strict === true && traits.supportsNativeStructuredOutput) spec.strict = true;
      tools.push({ toolSpec: spec });
      if (tool.cache_control && builder.caching) tools.push({ cachePoint: tool.cache_control.ttl ? { type: 'default', ttl: tool.cache_control.ttl } : { type: 'default' } });
    }
    if (structuredTool) {
      tools.push(structuredTool);
      toolChoice = { any: {} };
    } else if (choice === 'required') {
      toolChoice = { any: {} };
    } else if (choice !== null && typeof choice === 'object') {
      toolChoice = { tool: { name: choice.function.name } };
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
  let maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  let temperature = request.temperature ?? undefined;
  let topP = request.top_p ?? undefined;
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
      const answerTokens = maxTokens ?? THINKING_ANSWER_TOKENS;
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
  const stop = request.stop;
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
    singleToolCall: request.parallel_tool_calls === false,
    thinking,
  };
}
