import { createHash } from 'node:crypto';
import { EmulatedAwsError, BEDROCK_ERROR_STATUS, validationError } from './aws-errors.ts';
import type { EmulatedModel } from './catalog.ts';
import { exampleForSchema } from './json-schema-instance.ts';

/**
 * The emulated model: validates a Converse request the way Bedrock does, then builds a deterministic
 * reply from scripted markers in the last user message (see docs/emulator.md).
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export interface EmulatedUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export type ReplyBlock =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string; signature: string }
  | { type: 'toolUse'; toolUseId: string; name: string; input: unknown };

export interface ScriptedReply {
  blocks: ReplyBlock[];
  stopReason: string;
  usage: EmulatedUsage;
  /** Delay before each streamed event (and once before a non-streamed answer). */
  delayMs: number;
  /** Set by [[fail-mid-stream]]: the in-stream exception to send halfway (e.g. modelStreamErrorException). */
  failMidStream?: { eventType: string; message: string };
  latencyMs: number;
}

export interface ScriptContext {
  model: EmulatedModel;
  /** The full model id as invoked (profile id, ARN, ...). */
  modelId: string;
  /** Attempt number from the SDK's amz-sdk-request header (1 when absent). */
  attempt: number;
  /** Emulator-wide prompt cache (prefix hash -> seen). */
  promptCache: Set<string>;
}

const MARKER = /\[\[([a-z-]+)(?::([^\]]*))?\]\]/g;
const WHITESPACE = /\s+/;

export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11;
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

/** The signature the emulated model gives a thinking text (Anthropic's native format checks it when it comes back). */
export function thinkingSignature(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

function words(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === '' ? [] : trimmed.split(WHITESPACE);
}

interface Markers {
  tool?: string | true;
  tools?: number;
  /** [[tool-input:BASE64URL]]: the tool call's input, JSON encoded as base64url, instead of a schema example. */
  toolInput?: unknown;
  reasoning?: boolean;
  slowMs?: number;
  chunks?: number;
  throttle?: number; // attempts to throttle; Infinity = always
  retryAfter?: string;
  failMidStream?: string;
  /** `[[too-long]]`: Bedrock's context-overflow refusal. */
  tooLong?: boolean;
  deny?: boolean;
  error?: string;
  stop?: string;
  /** `[[arg:NAME=VALUE]]`: tool-call arguments that replace the schema's example values. */
  args?: Record<string, string>;
}

function parseMs(value: string | undefined): number {
  if (!value) return 100;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(value.trim());
  if (!m) return 100;
  return m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
}

function parseMarkers(text: string): { markers: Markers; clean: string } {
  const markers: Markers = {};
  if (text.indexOf('[[') < 0) return { markers, clean: text };
  for (const match of text.matchAll(MARKER)) {
    const name = match[1]!;
    const arg = match[2];
    switch (name) {
      case 'tool':
        markers.tool = arg ? arg : true;
        break;
      case 'tools':
        markers.tools = Math.max(1, Math.min(16, Number.parseInt(arg ?? '2', 10) || 2));
        break;
      case 'tool-input':
        try {
          markers.toolInput = JSON.parse(Buffer.from(arg ?? '', 'base64url').toString('utf8'));
        } catch {
          throw validationError('[[tool-input:…]] must carry base64url-encoded JSON.');
        }
        break;
      case 'reasoning':
        markers.reasoning = true;
        break;
      case 'slow':
        markers.slowMs = parseMs(arg);
        break;
      case 'chunks':
        markers.chunks = Math.max(1, Math.min(100_000, Number.parseInt(arg ?? '1', 10) || 1));
        break;
      case 'throttle':
        markers.throttle = arg ? Number.parseInt(arg, 10) || 1 : Number.POSITIVE_INFINITY;
        break;
      case 'retry-after':
        markers.retryAfter = arg ?? '1';
        break;
      case 'fail-mid-stream':
        markers.failMidStream = arg ?? 'modelStreamError';
        break;
      case 'deny':
        markers.deny = true;
        break;
      case 'too-long':
        markers.tooLong = true;
        break;
      case 'error':
        markers.error = arg;
        break;
      case 'stop':
        markers.stop = arg;
        break;
      case 'arg': {
        const equals = arg?.indexOf('=') ?? -1;
        if (equals > 0) (markers.args ??= {})[arg!.slice(0, equals)] = arg!.slice(equals + 1);
        break;
      }
    }
  }
  return { markers, clean: text.replace(MARKER, ' ') };
}

/** The `[[slow:…]]` delay a text asks for (0 without one), for operations without a scripted reply (embeddings). */
export function scriptedDelayMs(text: string): number {
  return parseMarkers(text).markers.slowMs ?? 0;
}

const STREAM_EXCEPTIONS: Record<string, string> = {
  modelstreamerror: 'modelStreamErrorException',
  throttling: 'throttlingException',
  internal: 'internalServerException',
  internalserver: 'internalServerException',
  unavailable: 'serviceUnavailableException',
  serviceunavailable: 'serviceUnavailableException',
  validation: 'validationException',
};

/* ------------------------------------------------------------------------------------------------ */
/* Validation                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

function blockKind(block: Json): string | undefined {
  if (!block || typeof block !== 'object') return undefined;
  for (const key of Object.keys(block)) if (block[key] !== undefined && block[key] !== null) return key;
  return undefined;
}

/** Bedrock's rule for `requestMetadata` values (Claude Code's JSON-string user id breaks it). */
const REQUEST_METADATA_VALUE = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$/;

/** Validates what Bedrock validates before the model runs; throws ValidationException like it does. */
export function validateConverseRequest(body: Json, model: EmulatedModel): void {
  if (model.kind !== 'chat') {
    throw validationError("This action doesn't support the model that you provided. Try again with a supported text or chat model.");
  }
  if (body.requestMetadata !== undefined) {
    for (const value of Object.values(body.requestMetadata ?? {})) {
      if (typeof value !== 'string' || !REQUEST_METADATA_VALUE.test(value)) {
        throw validationError('Request metadata contains a value that violates the regular expression: [a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}');
      }
    }
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validationError('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  }
  const hasToolConfig = body.toolConfig && Array.isArray(body.toolConfig.tools) && body.toolConfig.tools.length > 0;
  let cachePoints = 0;
  let previousRole: string | undefined;
  let pendingToolUseIds: string[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    const role = message?.role;
    if (role !== 'user' && role !== 'assistant') {
      throw validationError(
        `1 validation error detected: Value '${String(role)}' at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`,
      );
    }
    if (i === 0 && role !== 'user') {
      throw validationError('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    }
    if (role === previousRole) {
      throw validationError(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    previousRole = role;
    const content = message.content;
    if (!Array.isArray(content) || content.length === 0) {
      throw validationError(`The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`);
    }
    const toolUseIds: string[] = [];
    const toolResultIds: string[] = [];
    for (let j = 0; j < content.length; j++) {
      const block = content[j];
      const kind = blockKind(block);
      switch (kind) {
        case 'text':
          if (typeof block.text !== 'string' || block.text.trim() === '') {
            throw validationError(`The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`);
          }
          break;
        case 'image': {
          const format = block.image.format;
          if (!IMAGE_FORMATS.has(format)) {
            throw validationError(
              `1 validation error detected: Value '${String(format)}' at 'messages.${i + 1}.member.content.${j + 1}.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [gif, jpeg, png, webp]`,
            );
          }
          if (!model.inputModalities.includes('IMAGE')) {
            throw validationError("This model doesn't support the image content block that you provided. Try again with a supported model.");
          }
          const bytes = block.image.source?.bytes;
          if (typeof bytes !== 'string' || bytes.length === 0) {
            throw validationError(`The image at messages.${i}.content.${j} has no bytes. Provide image bytes and try again.`);
          }
          break;
        }
        case 'toolUse':
          if (role !== 'assistant') throw validationError(`messages.${i}.content.${j}: toolUse blocks may only appear in assistant messages.`);
          if (!hasToolConfig) throw validationError('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
          toolUseIds.push(String(block.toolUse.toolUseId));
          break;
        case 'toolResult':
          if (role !== 'user') throw validationError(`messages.${i}.content.${j}: toolResult blocks may only appear in user messages.`);
          if (!hasToolConfig) throw validationError('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
          toolResultIds.push(String(block.toolResult.toolUseId));
          break;
        case 'cachePoint':
          cachePoints++;
          break;
        case 'reasoningContent': {
          // Claude checks the signature of thinking given back to it; ours is the text's SHA-256.
          const thought = block.reasoningContent.reasoningText;
          if (thought && thought.signature !== thinkingSignature(String(thought.text ?? ''))) {
            throw validationError(`The model returned the following errors: messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
          }
          break;
        }
        case 'document':
        case 'video':
        case 'guardContent':
        case 'citationsContent':
          break;
        default:
          throw validationError(`The ContentBlock object at messages.${i}.content.${j} is empty or of an unknown type.`);
      }
    }
    if (role === 'user') {
      for (const id of toolResultIds) {
        if (!pendingToolUseIds.includes(id)) {
          throw validationError(
            `The model returned the following errors: messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
          );
        }
      }
      const missing = pendingToolUseIds.filter((id) => !toolResultIds.includes(id));
      if (missing.length > 0) {
        throw validationError(
          `The model returned the following errors: messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
      pendingToolUseIds = [];
    } else {
      pendingToolUseIds = toolUseIds;
    }
  }
  if (Array.isArray(body.system)) {
    for (let k = 0; k < body.system.length; k++) {
      const block = body.system[k];
      if (block?.cachePoint) cachePoints++;
      else if (typeof block?.text === 'string' && block.text.trim() === '') {
        throw validationError(`The text field in the SystemContentBlock object at system.${k} is blank. Add text to the text field, and try again.`);
      }
    }
  }
  if (cachePoints > 4) {
    throw validationError(`The model returned the following errors: A maximum of 4 blocks with cache_control may be provided. Found ${cachePoints}.`);
  }

  const inference = body.inferenceConfig ?? {};
  if (inference.maxTokens !== undefined) {
    if (!Number.isInteger(inference.maxTokens) || inference.maxTokens < 1) {
      throw validationError(
        `1 validation error detected: Value '${String(inference.maxTokens)}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    }
    if (inference.maxTokens > model.maxOutputTokens) {
      throw validationError(
        `The maximum tokens you requested exceeds the model limit of ${model.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${model.maxOutputTokens}.`,
      );
    }
  }
  if (inference.temperature !== undefined && (inference.temperature < 0 || inference.temperature > 1)) {
    throw validationError(
      `1 validation error detected: Value '${String(inference.temperature)}' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1`,
    );
  }
  if (model.rejectsTemperatureWithTopP && inference.temperature !== undefined && inference.topP !== undefined) {
    throw validationError('The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one.');
  }

  const extra = body.additionalModelRequestFields;
  const thinking = extra && typeof extra === 'object' ? extra.thinking : undefined;
  if (thinking !== undefined) {
    if (!model.reasoning) {
      throw validationError(
        'The model returned the following errors: Malformed input request: extraneous key [thinking] is not permitted, please reformat your input and try again.',
      );
    }
    if (thinking?.type === 'enabled') {
      const budget = thinking.budget_tokens;
      if (!Number.isInteger(budget) || budget < 1024) {
        throw validationError('The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      }
      const maxTokens = inference.maxTokens ?? 4096;
      if (maxTokens <= budget) {
        throw validationError('The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
      }
      if (inference.temperature !== undefined && inference.temperature !== 1) {
        throw validationError('The model returned the following errors: `temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility');
      }
      const choice = body.toolConfig?.toolChoice;
      if (choice && (choice.any || choice.tool)) {
        throw validationError('The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.');
      }
    }
  }

  if (body.toolConfig) {
    const tools = body.toolConfig.tools;
    if (!Array.isArray(tools) || tools.length === 0) {
      throw validationError('The value at toolConfig.tools must contain at least one tool. Add a tool and try again.');
    }
    const names = new Set<string>();
    for (const tool of tools) {
      if (tool?.cachePoint) continue;
      const spec = tool?.toolSpec;
      if (!spec || typeof spec.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
        throw validationError(
          `1 validation error detected: Value '${String(spec?.name)}' at 'toolConfig.tools.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`,
        );
      }
      if (names.has(spec.name)) throw validationError(`The model returned the following errors: tools: Tool names must be unique.`);
      names.add(spec.name);
      if (spec.inputSchema?.json === undefined) throw validationError(`The tool ${spec.name} has no inputSchema.json. Add a JSON schema and try again.`);
    }
    const forced = body.toolConfig.toolChoice?.tool?.name;
    if (forced !== undefined && !names.has(forced)) {
      throw validationError(`The model returned the following errors: Tool '${forced}' not found in provided tools`);
    }
  }

  const textFormat = body.outputConfig?.textFormat;
  if (textFormat !== undefined) {
    if (!model.structuredOutput) {
      throw validationError(
        `This model doesn't support the outputConfig.textFormat field. Remove outputConfig.textFormat or try again with a model that supports structured output.`,
      );
    }
    const schema = textFormat.structure?.jsonSchema?.schema;
    if (typeof schema !== 'string') throw validationError('outputConfig.textFormat.structure.jsonSchema.schema is required.');
    try {
      JSON.parse(schema);
    } catch {
      throw validationError('The JSON schema provided in outputConfig.textFormat is not valid JSON.');
    }
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Token accounting                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

function blockTokens(block: Json): number {
  if (typeof block.text === 'string') return countWords(block.text);
  if (block.toolUse) return countWords(JSON.stringify(block.toolUse.input ?? {}));
  if (block.toolResult) {
    let n = 0;
    for (const part of block.toolResult.content ?? []) {
      if (typeof part.text === 'string') n += countWords(part.text);
      else if (part.json !== undefined) n += countWords(JSON.stringify(part.json));
      else n += 1;
    }
    return n;
  }
  if (block.reasoningContent) return countWords(block.reasoningContent.reasoningText?.text ?? '');
  if (block.image || block.document || block.video) return 1;
  return 0;
}

function hashPrefix(modelId: string, system: Json[], messages: Json[], messageIndex: number, blockIndex: number, systemIndex: number): string {
  const hash = createHash('sha256');
  hash.update(modelId);
  hash.update(JSON.stringify(system.slice(0, systemIndex)));
  for (let i = 0; i < messageIndex; i++) hash.update(JSON.stringify(messages[i]));
  if (blockIndex >= 0) {
    const m = messages[messageIndex];
    hash.update(String(m.role));
    hash.update(JSON.stringify(m.content.slice(0, blockIndex)));
  }
  return hash.digest('base64url');
}

/**
 * Input tokens: one per whitespace-separated word of every system text, message text, tool-use input
 * and tool-result content (JSON compact), plus one per image/document/video. cachePoint blocks make
 * the prefix before them cached: first seen -> cacheWriteInputTokens, seen again -> cacheReadInputTokens;
 * inputTokens then counts only what follows the cache points.
 */
export function countInputTokens(body: Json, modelId: string, cache: Set<string>): { input: number; cacheRead: number; cacheWrite: number; cached: boolean } {
  const system: Json[] = Array.isArray(body.system) ? body.system : [];
  const messages: Json[] = body.messages;
  let running = 0;
  const points: { tokens: number; key: () => string }[] = [];
  for (let s = 0; s < system.length; s++) {
    const block = system[s];
    if (block.cachePoint) {
      const at = running;
      const idx = s;
      points.push({ tokens: at, key: () => hashPrefix(modelId, system, messages, 0, -1, idx) });
    } else if (typeof block.text === 'string') running += countWords(block.text);
  }
  for (let i = 0; i < messages.length; i++) {
    const content: Json[] = messages[i].content;
    for (let j = 0; j < content.length; j++) {
      const block = content[j];
      if (block.cachePoint) {
        const at = running;
        const mi = i;
        const bj = j;
        points.push({ tokens: at, key: () => hashPrefix(modelId, system, messages, mi, bj, system.length) });
      } else running += blockTokens(block);
    }
  }
  if (points.length === 0) return { input: running, cacheRead: 0, cacheWrite: 0, cached: false };
  let cacheRead = 0;
  const keys = points.map((p) => p.key());
  for (let p = points.length - 1; p >= 0; p--) {
    if (cache.has(keys[p]!)) {
      cacheRead = points[p]!.tokens;
      break;
    }
  }
  const last = points[points.length - 1]!.tokens;
  const cacheWrite = last - cacheRead;
  for (const key of keys) cache.add(key);
  if (cache.size > 10_000) cache.clear();
  return { input: running - last, cacheRead, cacheWrite, cached: true };
}

/* ------------------------------------------------------------------------------------------------ */
/* Reply                                                                                              */
/* ------------------------------------------------------------------------------------------------ */

function lastUserMessage(messages: Json[]): Json | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i];
  return undefined;
}

function toolResultSummary(content: Json[]): string {
  const parts: string[] = [];
  for (const block of content) {
    if (!block.toolResult) continue;
    for (const part of block.toolResult.content ?? []) {
      if (typeof part.text === 'string') parts.push(part.text);
      else if (part.json !== undefined) parts.push(JSON.stringify(part.json));
    }
  }
  return parts.join('; ');
}

function toolUseId(seed: string, index: number): string {
  return `tooluse_${createHash('sha256').update(`${seed}#${index}`).digest('base64url').slice(0, 22)}`;
}

/** A tool call's arguments with the `[[arg:NAME=VALUE]]` values in place (e.g. the absolute path a file tool needs). */
function withScriptedArgs(input: unknown, args: Record<string, string> | undefined): unknown {
  if (!args || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  return { ...input, ...args };
}

function throwScriptedError(name: string): never {
  const type = name.endsWith('Exception') ? name : `${name}Exception`;
  if (!(type in BEDROCK_ERROR_STATUS)) throw validationError(`Unknown scripted error '${name}'.`);
  throw new EmulatedAwsError(type, `Scripted ${type}.`);
}

/** Builds the deterministic reply for a validated Converse request (throws scripted errors). */
export function buildConverseReply(body: Json, context: ScriptContext, stream: boolean): ScriptedReply {
  const messages: Json[] = body.messages;
  const last = lastUserMessage(messages)!;
  let userText = '';
  for (const block of last.content) if (typeof block.text === 'string') userText += (userText ? '\n' : '') + block.text;
  const { markers, clean } = parseMarkers(userText);

  if (markers.tooLong) throw validationError('Input is too long for requested model.');
  if (markers.deny) throw new EmulatedAwsError('AccessDeniedException', "You don't have access to the model with the specified model ID.");
  if (markers.throttle !== undefined && context.attempt <= markers.throttle) {
    const headers = markers.retryAfter !== undefined ? { 'retry-after': markers.retryAfter } : undefined;
    throw new EmulatedAwsError('ThrottlingException', 'Too many requests, please wait before trying again.', 429, headers);
  }
  if (markers.error) throwScriptedError(markers.error);
  if (markers.failMidStream !== undefined && !stream) {
    throw new EmulatedAwsError('ModelErrorException', 'The model failed to produce a complete response (scripted [[fail-mid-stream]]).');
  }

  const inputCount = countInputTokens(body, context.modelId, context.promptCache);
  const userWords = words(clean);
  const blocks: ReplyBlock[] = [];

  // Reasoning: [[reasoning]] or extended thinking requested.
  const thinking = body.additionalModelRequestFields?.thinking;
  const wantsReasoning = markers.reasoning === true || thinking?.type === 'enabled' || thinking?.type === 'adaptive';
  if (wantsReasoning && context.model.reasoning) {
    const text = `Thinking about: ${userWords.length > 0 ? userWords.join(' ') : 'the request'}`;
    blocks.push({ type: 'reasoning', text, signature: thinkingSignature(text) });
  }

  // Tool calls.
  const tools: Json[] = (body.toolConfig?.tools ?? []).filter((t: Json) => t?.toolSpec);
  const choice = body.toolConfig?.toolChoice;
  let toolCalls: Json[] = [];
  if (tools.length > 0 && !userText.includes('[[no-tool]]')) {
    if (choice?.tool?.name) {
      toolCalls = tools.filter((t) => t.toolSpec.name === choice.tool.name);
    } else if (markers.tool !== undefined || markers.tools !== undefined || choice?.any) {
      if (typeof markers.tool === 'string') {
        const named = tools.find((t) => t.toolSpec.name === markers.tool);
        toolCalls = named ? [named] : [tools[0]];
      } else {
        const n = markers.tools ?? 1;
        for (let i = 0; i < n; i++) toolCalls.push(tools[i % tools.length]);
      }
    }
  }

  let stopReason = 'end_turn';
  const textFormat = body.outputConfig?.textFormat;
  if (toolCalls.length > 0) {
    const forced = Boolean(choice?.tool || choice?.any);
    if (!forced) blocks.push({ type: 'text', text: `Calling ${toolCalls.map((t) => t.toolSpec.name).join(', ')}.` });
    const seed = `${context.modelId}|${messages.length}|${userText}`;
    toolCalls.forEach((tool, i) => {
      const schema = tool.toolSpec.inputSchema?.json ?? {};
      const input = markers.toolInput !== undefined ? markers.toolInput : withScriptedArgs(exampleForSchema(schema) ?? {}, markers.args);
      blocks.push({ type: 'toolUse', toolUseId: toolUseId(seed, i), name: tool.toolSpec.name, input });
    });
    stopReason = 'tool_use';
  } else if (textFormat !== undefined) {
    const schema = JSON.parse(textFormat.structure.jsonSchema.schema);
    blocks.push({ type: 'text', text: JSON.stringify(exampleForSchema(schema)) });
  } else {
    let text: string;
    if (userWords.length === 0 && last.content.some((b: Json) => b.toolResult)) {
      text = `tool result: ${toolResultSummary(last.content)}`;
    } else {
      text = userWords.length > 0 ? `echo: ${userWords.join(' ')}` : 'echo:';
    }
    if (markers.chunks !== undefined) {
      const source = words(text);
      const out: string[] = new Array(markers.chunks);
      for (let i = 0; i < markers.chunks; i++) out[i] = source[i % source.length]!;
      text = out.join(' ');
    }
    blocks.push({ type: 'text', text });
  }

  // Stop sequences cut the (last) text block.
  const stops: unknown = body.inferenceConfig?.stopSequences;
  if (stopReason === 'end_turn' && Array.isArray(stops) && stops.length > 0) {
    const block = blocks[blocks.length - 1];
    if (block?.type === 'text') {
      let cut = -1;
      for (const s of stops) {
        if (typeof s !== 'string' || s === '') continue;
        const at = block.text.indexOf(s);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) {
        block.text = block.text.slice(0, cut).trimEnd();
        stopReason = 'stop_sequence';
      }
    }
  }

  // maxTokens budget (words) over reasoning, text and tool input.
  const maxTokens: number | undefined = body.inferenceConfig?.maxTokens;
  let outputTokens = 0;
  const kept: ReplyBlock[] = [];
  for (const block of blocks) {
    const cost = block.type === 'toolUse' ? countWords(JSON.stringify(block.input)) : countWords(block.text);
    if (maxTokens !== undefined && outputTokens + cost > maxTokens) {
      const room = maxTokens - outputTokens;
      if (block.type !== 'toolUse' && room > 0) {
        const truncated = words(block.text).slice(0, room).join(' ');
        kept.push({ ...block, text: truncated });
        outputTokens += room;
      }
      stopReason = 'max_tokens';
      break;
    }
    kept.push(block);
    outputTokens += cost;
  }
  if (kept.length === 0) kept.push({ type: 'text', text: '' });
  if (markers.stop) stopReason = markers.stop;

  const usage: EmulatedUsage = {
    inputTokens: inputCount.input,
    outputTokens,
    totalTokens: inputCount.input + inputCount.cacheRead + inputCount.cacheWrite + outputTokens,
  };
  if (inputCount.cached) {
    usage.cacheReadInputTokens = inputCount.cacheRead;
    usage.cacheWriteInputTokens = inputCount.cacheWrite;
  }

  const reply: ScriptedReply = {
    blocks: kept,
    stopReason,
    usage,
    delayMs: markers.slowMs ?? 0,
    latencyMs: 1 + (markers.slowMs ?? 0),
  };
  if (markers.failMidStream !== undefined) {
    const key = markers.failMidStream.toLowerCase().replace(/exception$/, '').replace(/[-_]/g, '');
    reply.failMidStream = {
      eventType: STREAM_EXCEPTIONS[key] ?? 'modelStreamErrorException',
      message: key.startsWith('throttling') ? 'Too many requests, please wait before trying again.' : 'The model stream failed mid-response (scripted).',
    };
  }
  return reply;
}

/** Splits a text into stream deltas: one per word (the word plus its leading space). */
export function textDeltas(text: string): string[] {
  const parts = words(text);
  if (parts.length === 0) return text === '' ? [] : [text];
  const out = new Array<string>(parts.length);
  out[0] = parts[0]!;
  for (let i = 1; i < parts.length; i++) out[i] = ` ${parts[i]}`;
  return out;
}
