/**
 * OpenAI Responses request -> Bedrock Converse / ConverseStream input. The conversation (input items)
 * is translated here; everything else goes through the same finishConverseRequest as Chat Completions.
 * See docs/compatibility.md (Responses API).
 */
import { createHash } from 'node:crypto';
import type { ContentBlock, ToolResultContentBlock } from '@aws-sdk/client-bedrock-runtime';
import {
  cachePoint,
  decodeDataUri,
  EMPTY_TOOL_RESULT,
  finishConverseRequest,
  newConverseBuilder,
  pushBlocks,
  type ConverseBuilder,
  type ConversePlan,
  type ImageResolver,
  type OutputFormatSpec,
  type RequestParamNames,
  type ToolChoiceSpec,
  type ToolDefinition,
} from './chat-request.ts';
import { modelTraits } from './model-catalog.ts';
import { invalidRequest } from './openai-errors.ts';
import { unsupported } from './openai-schemas.ts';
import { decodeReasoning } from './responses-reasoning.ts';
import type { ResponseInputItem, ResponsesRequest, ResponseTool, ToolOutput } from './responses-schemas.ts';

/** What a Bedrock tool name stands for on the client's side. */
export interface ToolBinding {
  kind: 'function' | 'custom';
  name: string;
  namespace: string | null;
}

export interface ResponsesPlan extends ConversePlan {
  /** Bedrock tool name -> the client's tool. */
  tools: Map<string, ToolBinding>;
}

const PARAMS: RequestParamNames = { messages: 'input', toolChoice: 'tool_choice', reasoning: 'reasoning.effort', format: 'text.format' };
const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const INVALID_TOOL_NAME_CHARS = /[^a-zA-Z0-9_-]/g;
const BLANK = /^\s*$/;
/** The one string parameter a custom (freeform) tool's input travels in. */
export const CUSTOM_TOOL_INPUT = 'input';

/**
 * The Bedrock name of a (possibly namespaced) tool: Bedrock allows [a-zA-Z0-9_-]{1,64}, so a namespace
 * is joined with `__`, other characters become `_`, and an over-long name keeps a hash of the original.
 */
export function bedrockToolName(name: string, namespace: string | null | undefined, hashed = false): string {
  const full = namespace ? `${namespace}__${name}` : name;
  if (!hashed && TOOL_NAME_PATTERN.test(full)) return full;
  const clean = full.replace(INVALID_TOOL_NAME_CHARS, '_');
  if (!hashed && clean.length <= 64) return clean;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${clean.slice(0, 55)}_${hash}`;
}

/** The client's (namespace, name) of a tool, as one key. */
function clientKey(name: string, namespace: string | null | undefined): string {
  return `${namespace ?? ''}\u0000${name}`;
}

function customToolParameters(description: string): Record<string, unknown> {
  return {
    type: 'object',
    properties: { [CUSTOM_TOOL_INPUT]: { type: 'string', description } },
    required: [CUSTOM_TOOL_INPUT],
    additionalProperties: false,
  };
}

type DeclaredTool = Extract<ResponseTool, { type: 'function' | 'custom' }>;

/** Flattens namespaces; custom tools become a function taking their free-form input as one string. */
function toolDefinitions(tools: readonly ResponseTool[]): { definitions: ToolDefinition[]; bindings: Map<string, ToolBinding>; names: Map<string, string> } {
  const definitions: ToolDefinition[] = [];
  const bindings = new Map<string, ToolBinding>();
  const names = new Map<string, string>();
  const add = (tool: DeclaredTool, namespace: string | null, namespaceDescription: string | null | undefined) => {
    const key = clientKey(tool.name, namespace);
    if (names.has(key)) {
      throw invalidRequest(`Two tools are named '${namespace ? `${namespace}.` : ''}${tool.name}'${namespace ? ' in one namespace' : ''}; tool names must be unique.`, 'tools');
    }
    let name = bedrockToolName(tool.name, namespace);
    // Two client names made safe alike (`web.fetch`, `web_fetch`): the later one keeps a hash.
    if (bindings.has(name)) name = bedrockToolName(tool.name, namespace, true);
    names.set(key, name);
    bindings.set(name, { kind: tool.type, name: tool.name, namespace });
    const prefix = namespaceDescription ? `${namespaceDescription}\n\n` : '';
    if (tool.type === 'function') {
      definitions.push({ name, description: tool.description ? prefix + tool.description : prefix || null, parameters: tool.parameters, strict: tool.strict });
    } else {
      const format = tool.format;
      const grammar = format && format.type === 'grammar' ? `\n\nThe input must follow this ${format.syntax} grammar:\n${format.definition}` : '';
      const description = `${prefix}${tool.description ?? ''}${grammar}`.trim();
      definitions.push({ name, description: description || null, parameters: customToolParameters(`The tool's free-form input (raw text, not JSON).${grammar ? ' It follows the grammar in the tool description.' : ''}`) });
    }
  };
  for (const tool of tools) {
    if (tool.type === 'function' || tool.type === 'custom') add(tool, null, null);
    else if (tool.type === 'namespace') for (const inner of tool.tools) add(inner, tool.name, tool.description);
    // web_search, web_search_preview and tool_search: not offered (see responses-schemas.ts).
  }
  return { definitions, bindings, names };
}

function imageBlock(builder: ConverseBuilder, url: string | null | undefined, fileId: string | null | undefined, param: string): ContentBlock.ImageMember {
  if (!url) {
    if (fileId) throw unsupported(`${param}.file_id`, 'Images by file_id are not supported (there is no Files API); send image_url as a data: URI or an http(s) URL.');
    throw invalidRequest('An input_image needs an image_url.', `${param}.image_url`);
  }
  if (url.startsWith('data:')) {
    const { format, bytes } = decodeDataUri(url, `${param}.image_url`);
    return { image: { format, source: { bytes } } };
  }
  if (url.startsWith('https://') || url.startsWith('http://')) {
    const block: ContentBlock.ImageMember = { image: { format: 'png', source: { bytes: new Uint8Array(0) } } };
    builder.images.push({ block, url, param: `${param}.image_url` });
    return block;
  }
  throw invalidRequest('Image URLs must be data: URIs or http(s) URLs.', `${param}.image_url`);
}

function fileUnsupported(param: string): never {
  throw unsupported(param, 'input_file parts are not supported; send the file as text or images.');
}

function messageBlocks(builder: ConverseBuilder, item: Extract<ResponseInputItem, { type: 'message' }>, index: number): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  const content = item.content;
  if (typeof content === 'string') {
    if (!BLANK.test(content)) blocks.push({ text: content });
    return blocks;
  }
  for (let j = 0; j < content.length; j++) {
    const part = content[j]!;
    const param = `input[${index}].content[${j}]`;
    if (part.type === 'input_text' || part.type === 'output_text') {
      if (!BLANK.test(part.text)) blocks.push({ text: part.text });
    } else if (part.type === 'refusal') {
      if (!BLANK.test(part.refusal)) blocks.push({ text: part.refusal });
    } else if (part.type === 'input_image') {
      if (item.role !== 'user') throw invalidRequest(`Images are only supported in user messages.`, param);
      blocks.push(imageBlock(builder, part.image_url, part.file_id, param));
    } else {
      fileUnsupported(param);
    }
  }
  return blocks;
}

function toolResultContent(builder: ConverseBuilder, output: ToolOutput, param: string): ToolResultContentBlock[] {
  if (typeof output === 'string') return [{ text: BLANK.test(output) ? EMPTY_TOOL_RESULT : output }];
  const content: ToolResultContentBlock[] = [];
  for (let j = 0; j < output.length; j++) {
    const part = output[j]!;
    if (part.type === 'input_text' || part.type === 'output_text') {
      if (!BLANK.test(part.text)) content.push({ text: part.text });
    } else if (part.type === 'input_image') {
      // A tool result's image block has the shape of a message's; it is fetched like one.
      content.push(imageBlock(builder, part.image_url, part.file_id, `${param}[${j}]`) as ToolResultContentBlock.ImageMember);
    } else {
      fileUnsupported(`${param}[${j}]`);
    }
  }
  return content.length > 0 ? content : [{ text: EMPTY_TOOL_RESULT }];
}

function parseArguments(raw: string, callId: string, param: string): Record<string, never> {
  if (BLANK.test(raw)) return {};
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    throw invalidRequest(`The arguments of function call '${callId}' are not valid JSON.`, param);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidRequest(`The arguments of function call '${callId}' must be a JSON object.`, param);
  }
  return input as Record<string, never>;
}

function systemText(builder: ConverseBuilder, text: string): void {
  if (!BLANK.test(text)) builder.system.push({ text });
}

/** Adds input items to the conversation; `toolNames` maps the request's tools to their Bedrock names. */
export function addInputItems(builder: ConverseBuilder, items: readonly ResponseInputItem[], toolNames: ReadonlyMap<string, string>): void {
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    switch (item.type) {
      case 'message':
        if (item.role === 'system' || item.role === 'developer') {
          for (const block of messageBlocks(builder, item, i)) if (block.text !== undefined) systemText(builder, block.text);
        } else {
          pushBlocks(builder, item.role, messageBlocks(builder, item, i));
        }
        break;
      case 'function_call':
      case 'custom_tool_call': {
        const input = item.type === 'function_call' ? parseArguments(item.arguments, item.call_id, `input[${i}].arguments`) : ({ [CUSTOM_TOOL_INPUT]: item.input } as unknown as Record<string, never>);
        const name = toolNames.get(clientKey(item.name, item.namespace)) ?? bedrockToolName(item.name, item.namespace);
        builder.toolNames.set(item.call_id, name);
        builder.hasToolBlocks = true;
        pushBlocks(builder, 'assistant', [{ toolUse: { toolUseId: item.call_id, name, input } }]);
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output':
        builder.hasToolBlocks = true;
        pushBlocks(builder, 'user', [{ toolResult: { toolUseId: item.call_id, content: toolResultContent(builder, item.output, `input[${i}].output`) } }]);
        break;
      case 'reasoning': {
        // Only our own reasoning items can be restored (they carry Claude's signed thinking); any
        // other, or one without encrypted_content, is context the model cannot take back: skipped.
        const block = item.encrypted_content ? decodeReasoning(item.encrypted_content) : null;
        if (block) pushBlocks(builder, 'assistant', [block]);
        break;
      }
    }
  }
}

/** Converse's cache points for a client that named a prompt cache: after the instructions and after the input. */
function addCachePoints(builder: ConverseBuilder): void {
  if (builder.system.length > 0) builder.system.push(cachePoint({ type: 'ephemeral' }) as never);
  const last = builder.turns[builder.turns.length - 1];
  if (last && last.role === 'user') last.content!.push(cachePoint({ type: 'ephemeral' }));
}

function toolChoiceOf(request: ResponsesRequest, toolNames: ReadonlyMap<string, string>): ToolChoiceSpec {
  const choice = request.tool_choice;
  if (choice == null) return null;
  if (typeof choice === 'string') return choice;
  const named = choice as { name: string; namespace?: string | null };
  return { name: toolNames.get(clientKey(named.name, named.namespace)) ?? bedrockToolName(named.name, named.namespace) };
}

function formatOf(request: ResponsesRequest): OutputFormatSpec | null {
  const format = request.text?.format;
  if (!format) return null;
  if (format.type !== 'json_schema') return { type: format.type };
  return { type: 'json_schema', name: format.name, description: format.description, schema: format.schema, strict: format.strict };
}

/**
 * `history`: the items of earlier turns (a stored previous response's input and output), ahead of
 * this request's own input. `traitsModelId` as in buildConverseRequest.
 */
export async function buildResponsesConverseRequest(
  request: ResponsesRequest,
  history: readonly ResponseInputItem[],
  modelId: string,
  resolveImage: ImageResolver,
  traitsModelId = modelId,
): Promise<ResponsesPlan> {
  const traits = modelTraits(traitsModelId);
  const builder = newConverseBuilder(traits);
  const { definitions, bindings, names } = toolDefinitions(request.tools ?? []);
  if (request.instructions) systemText(builder, request.instructions);
  addInputItems(builder, history, names);
  const input = request.input;
  if (typeof input === 'string') pushBlocks(builder, 'user', BLANK.test(input) ? [] : [{ text: input }]);
  else if (input) addInputItems(builder, input, names);
  if (builder.caching && request.prompt_cache_key) addCachePoints(builder);

  const effort = request.reasoning?.effort ?? null;
  const plan = await finishConverseRequest(
    builder,
    {
      modelId,
      traits,
      tools: definitions,
      toolChoice: toolChoiceOf(request, names),
      effort: effort === 'max' ? 'xhigh' : effort,
      format: formatOf(request),
      maxTokens: request.max_output_tokens ?? undefined,
      maxTokensDefault: 'model-limit',
      temperature: request.temperature ?? undefined,
      topP: request.top_p ?? undefined,
      parallelToolCalls: request.parallel_tool_calls,
      params: PARAMS,
    },
    resolveImage,
  );
  return { ...plan, tools: bindings };
}
