import { createHash } from 'node:crypto';
import {
  BEDROCK_CONTEXT_EDIT,
  BEDROCK_CONTEXT_EDIT_BETA,
  BEDROCK_NATIVE_FIELDS,
  betaRulesFor,
  CACHE_CONTROL_KEYS,
  METADATA_VALUE_PATTERN,
  MID_CONVERSATION_SYSTEM_BETA,
  MIN_THINKING_BUDGET,
  SERVER_TOOL_TYPE,
  THINKING_BUDGET_BY_EFFORT,
  TOOL_SEARCH_BETA,
} from './anthropic-bedrock-rules.ts';
import { claudeTraitsOf } from './claude-models.ts';

/**
 * An Anthropic Messages request (as Claude Code or an Anthropic SDK sends it) -> the native body Claude
 * takes on Bedrock's InvokeModel: `anthropic_version: bedrock-2023-05-31`, no `model` or `stream`, the
 * `anthropic-beta` header's values in `anthropic_beta`, and what Bedrock refuses removed or rewritten
 * by the tables in anthropic-bedrock-rules.ts. Everything else (thinking blocks and signatures, tool
 * use, images, documents, cache_control, citations) is passed on as it came. Each change is named in
 * `dropped` (never a value) for the request's log event.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export interface NativeBody {
  /** The InvokeModel body (serialise with JSON.stringify). */
  body: Record<string, Json>;
  /** What was removed or rewritten, by name: `anthropic_beta:oauth-2025-04-20`, `context_management`, … */
  dropped: string[];
  /** Forwarded betas the family's table does not know: the ones to leave out if Bedrock says "invalid beta flag". */
  unknownBetas: string[];
}

export interface SanitiseOptions {
  /** The Bedrock foundation model id (no geography prefix) whose rules apply. */
  baseModelId: string;
  /** The `anthropic-beta` header's values (comma-separated, possibly repeated). */
  betaHeader?: string | null;
  /** Betas Bedrock refused earlier for this model (learnt from "invalid beta flag"): left out too. */
  refusedBetas?: ReadonlySet<string>;
  /** For CountTokens: `max_tokens` is optional in the request and set to what Bedrock needs. */
  countTokens?: boolean;
  /** The model's output ceiling where known: a larger `max_tokens` is lowered to it (Bedrock refuses more). */
  maxOutputTokens?: number | null;
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function betasOf(header: string | null | undefined, body: unknown): string[] {
  const all: string[] = [];
  if (header) for (const part of header.split(',')) all.push(part.trim());
  if (Array.isArray(body)) for (const beta of body) if (typeof beta === 'string') all.push(beta.trim());
  return [...new Set(all.filter((beta) => beta !== ''))];
}

function sanitiseBetas(requested: string[], options: SanitiseOptions, dropped: string[]): { kept: string[]; unknown: string[] } {
  const rules = betaRulesFor(options.baseModelId);
  const kept: string[] = [];
  const unknown: string[] = [];
  for (const beta of requested) {
    const name = rules.renamed[beta] ?? beta;
    if (rules.refused.some((pattern) => pattern.test(name)) || options.refusedBetas?.has(name)) {
      dropped.push(`anthropic_beta:${beta}`);
      continue;
    }
    if (kept.includes(name)) continue;
    kept.push(name);
    if (!rules.accepted.has(name)) unknown.push(name);
  }
  return { kept, unknown };
}

/** A `cache_control` without the keys Bedrock refuses (a copy only where one is removed). */
function cleanCacheControl(block: Json, path: string, dropped: string[]): Json {
  if (!isObject(block) || !isObject(block.cache_control)) return block;
  const extra = Object.keys(block.cache_control).filter((key) => !CACHE_CONTROL_KEYS.has(key));
  if (extra.length === 0) return block;
  const cacheControl = { ...block.cache_control };
  for (const key of extra) {
    delete cacheControl[key];
    dropped.push(`${path}.cache_control.${key}`);
  }
  return { ...block, cache_control: cacheControl };
}

function cleanBlocks(blocks: unknown, path: string, dropped: string[]): unknown {
  if (!Array.isArray(blocks)) return blocks;
  let changed = false;
  const out = blocks.map((block) => {
    let next = cleanCacheControl(block, path, dropped);
    if (isObject(next) && next.type === 'tool_result' && Array.isArray(next.content)) {
      const content = cleanBlocks(next.content, path, dropped);
      if (content !== next.content) next = { ...next, content };
    }
    if (next !== block) changed = true;
    return next;
  });
  return changed ? out : blocks;
}

function cleanMessages(messages: Json[], dropped: string[]): Json[] {
  let changed = false;
  const out = messages.map((message) => {
    if (!isObject(message)) return message;
    const content = cleanBlocks(message.content, 'messages[].content[]', dropped);
    if (content === message.content) return message;
    changed = true;
    return { ...message, content };
  });
  return changed ? out : messages;
}

function cleanTools(tools: Json[], betas: string[], dropped: string[]): Json[] {
  const out: Json[] = [];
  for (const tool of tools) {
    if (!isObject(tool)) {
      out.push(tool);
      continue;
    }
    if (typeof tool.type === 'string' && SERVER_TOOL_TYPE.test(tool.type)) {
      dropped.push(`tools:${tool.type}`);
      continue;
    }
    let next = cleanCacheControl(tool, 'tools[]', dropped);
    if (next.custom !== undefined) {
      next = { ...next };
      delete next.custom;
      dropped.push('tools[].custom');
    }
    if (next.defer_loading !== undefined && !betas.includes(TOOL_SEARCH_BETA)) {
      next = { ...next };
      delete next.defer_loading;
      dropped.push('tools[].defer_loading');
    }
    out.push(next);
  }
  return out;
}

function textBlocks(content: Json): Json[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
}

/**
 * `role: "system"` messages inside `messages`, for a model without them: each becomes text of the user
 * turn it sits next to (ahead of the next user turn's content; at the end of the previous one when an
 * assistant turn or nothing follows). That is where Claude Code puts its reminders for models it knows
 * lack them; the roles keep alternating.
 */
function foldSystemMessages(messages: Json[]): Json[] {
  const out: Json[] = [];
  let pending: Json[] = [];
  for (const message of messages) {
    if (isObject(message) && message.role === 'system') {
      pending.push(...textBlocks(message.content));
      continue;
    }
    if (pending.length > 0 && isObject(message) && message.role === 'user') {
      out.push({ ...message, content: [...pending, ...textBlocks(message.content)] });
      pending = [];
      continue;
    }
    if (pending.length > 0) pending = appendToLastUser(out, pending);
    out.push(message);
  }
  if (pending.length > 0) appendToLastUser(out, pending);
  return out;
}

/** Adds `blocks` to the last user turn of `out`; returns what could not be placed (no user turn yet). */
function appendToLastUser(out: Json[], blocks: Json[]): Json[] {
  const index = out.findLastIndex((message) => isObject(message) && message.role === 'user');
  if (index < 0) return blocks;
  out[index] = { ...out[index], content: [...textBlocks(out[index].content), ...blocks] };
  return [];
}

/** Claude Code's JSON-string user id breaks Bedrock's pattern: a hash keeps users apart without the text. */
function cleanMetadata(metadata: Json, dropped: string[]): Json {
  if (!isObject(metadata)) {
    dropped.push('metadata');
    return undefined;
  }
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key !== 'user_id') {
      dropped.push(`metadata.${key}`);
    } else if (value === null || value === undefined) {
      continue;
    } else if (typeof value === 'string' && METADATA_VALUE_PATTERN.test(value)) {
      out.user_id = value;
    } else {
      out.user_id = `sha256:${createHash('sha256').update(String(value)).digest('hex').slice(0, 40)}`;
      dropped.push('metadata.user_id');
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The budget an adaptive request gets on a model with budgeted thinking only; null when max_tokens leaves no room. */
function budgetFor(effort: unknown, maxTokens: number): number | null {
  const wanted = THINKING_BUDGET_BY_EFFORT[typeof effort === 'string' ? effort : 'high'] ?? THINKING_BUDGET_BY_EFFORT.high!;
  const budget = Math.min(wanted, maxTokens - 1);
  return budget >= MIN_THINKING_BUDGET ? budget : null;
}

/** The instruction that stands in for `output_config.format` (Bedrock refuses the field). */
function formatInstruction(format: Json): string {
  const schema = isObject(format) && format.schema !== undefined ? JSON.stringify(format.schema) : '{}';
  return `Respond with only a JSON value that matches this JSON schema, with no other text: ${schema}`;
}

export function toBedrockNativeBody(request: Record<string, Json>, options: SanitiseOptions): NativeBody {
  const dropped: string[] = [];
  const { adaptiveThinking, thinking: hasThinking, midConversationSystem } = claudeTraitsOf(options.baseModelId);
  const body: Record<string, Json> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION };
  for (const [key, value] of Object.entries(request)) {
    if (key === 'model' || key === 'stream' || key === 'anthropic_version' || key === 'anthropic_beta') continue;
    if (!BEDROCK_NATIVE_FIELDS.has(key)) {
      dropped.push(key);
      continue;
    }
    if (value !== undefined) body[key] = value;
  }

  let requestedBetas = betasOf(options.betaHeader, request.anthropic_beta);
  if (!midConversationSystem && Array.isArray(body.messages) && body.messages.some((message: Json) => message?.role === 'system')) {
    body.messages = foldSystemMessages(body.messages);
    dropped.push('messages[].role:system');
  }
  if (!midConversationSystem) {
    for (const beta of requestedBetas.filter((name) => MID_CONVERSATION_SYSTEM_BETA.test(name))) dropped.push(`anthropic_beta:${beta}`);
    requestedBetas = requestedBetas.filter((name) => !MID_CONVERSATION_SYSTEM_BETA.test(name));
  }
  const { kept: betas, unknown } = sanitiseBetas(requestedBetas, options, dropped);
  if (betas.length > 0) body.anthropic_beta = betas;

  if (options.countTokens && body.max_tokens === undefined) body.max_tokens = 1;
  const ceiling = options.maxOutputTokens;
  if (typeof ceiling === 'number' && typeof body.max_tokens === 'number' && body.max_tokens > ceiling) {
    // Claude Code asks a model name it does not know (an alias) for more than some models give.
    body.max_tokens = ceiling;
    dropped.push('max_tokens:lowered');
  }
  if (Array.isArray(body.messages)) body.messages = cleanMessages(body.messages, dropped);
  if (Array.isArray(body.system)) body.system = cleanBlocks(body.system, 'system[]', dropped);
  if (Array.isArray(body.tools)) {
    body.tools = cleanTools(body.tools, betas, dropped);
    const choice = body.tool_choice;
    if (isObject(choice) && choice.type === 'tool' && !body.tools.some((tool: Json) => tool?.name === choice.name)) {
      delete body.tool_choice;
      dropped.push('tool_choice');
    }
    if (body.tools.length === 0) {
      delete body.tools;
      if (body.tool_choice !== undefined) {
        delete body.tool_choice;
        dropped.push('tool_choice');
      }
    }
  }
  if (body.metadata !== undefined) {
    const metadata = cleanMetadata(body.metadata, dropped);
    if (metadata === undefined) delete body.metadata;
    else body.metadata = metadata;
  }

  if (body.context_management !== undefined) {
    const edits: Json[] = Array.isArray(body.context_management?.edits) ? body.context_management.edits : [];
    const compact = betas.includes(BEDROCK_CONTEXT_EDIT_BETA) ? edits.filter((edit) => edit?.type === BEDROCK_CONTEXT_EDIT) : [];
    if (compact.length === 0) {
      delete body.context_management;
      dropped.push('context_management');
    } else if (compact.length < edits.length) {
      body.context_management = { ...body.context_management, edits: compact };
      dropped.push('context_management.edits[]');
    }
  }

  const output = body.output_config;
  let effort: unknown;
  if (output !== undefined) {
    const next: Record<string, Json> = isObject(output) ? { ...output } : {};
    effort = next.effort;
    if (next.format !== undefined) {
      // Keep the asked-for shape as an instruction: the caller (e.g. a title request) still parses JSON.
      const instruction = { type: 'text', text: formatInstruction(next.format) };
      body.system = Array.isArray(body.system) ? [...body.system, instruction] : typeof body.system === 'string' ? [{ type: 'text', text: body.system }, instruction] : [instruction];
      delete next.format;
      dropped.push('output_config.format');
    }
    if (!adaptiveThinking) {
      for (const key of Object.keys(next)) dropped.push(`output_config.${key}`);
      delete body.output_config;
    } else if (Object.keys(next).length === 0) {
      delete body.output_config;
    } else {
      body.output_config = next;
    }
  }

  const thinking = body.thinking;
  if (isObject(thinking) && thinking.type !== 'disabled') {
    if (!hasThinking) {
      delete body.thinking;
      dropped.push('thinking');
    } else if (thinking.type === 'adaptive' && !adaptiveThinking) {
      const budget = typeof body.max_tokens === 'number' ? budgetFor(effort, body.max_tokens) : null;
      if (budget === null) delete body.thinking;
      else body.thinking = { type: 'enabled', budget_tokens: budget };
      dropped.push('thinking.type:adaptive');
    }
  }
  const budget = body.thinking?.type === 'enabled' ? body.thinking.budget_tokens : undefined;
  if (!options.countTokens && typeof budget === 'number' && typeof body.max_tokens === 'number' && budget >= body.max_tokens) {
    if (body.max_tokens - 1 >= MIN_THINKING_BUDGET) body.thinking = { ...body.thinking, budget_tokens: body.max_tokens - 1 };
    else delete body.thinking;
    dropped.push('thinking.budget_tokens:lowered');
  }
  if (options.countTokens) {
    if (typeof budget === 'number' && body.max_tokens <= budget) body.max_tokens = budget + 1;
  }
  return { body, dropped, unknownBetas: unknown };
}

/** The same body without the betas Bedrock refused (after "invalid beta flag"), the removal named in `dropped`. */
export function withoutBetas(native: NativeBody, refused: readonly string[]): NativeBody {
  const betas: string[] = Array.isArray(native.body.anthropic_beta) ? native.body.anthropic_beta : [];
  const kept = betas.filter((beta) => !refused.includes(beta));
  const body = { ...native.body };
  if (kept.length > 0) body.anthropic_beta = kept;
  else delete body.anthropic_beta;
  return { body, dropped: [...native.dropped, ...refused.map((beta) => `anthropic_beta:${beta}`)], unknownBetas: [] };
}
