import { createHash } from 'node:crypto';
import { validationError } from './aws-errors.ts';
import type { ReplyBlock, ScriptedReply } from './scripted-model.ts';

/**
 * Claude's native request/response format on InvokeModel (the Anthropic Messages API with
 * `anthropic_version: "bedrock-2023-05-31"`), mapped onto the same scripted model as Converse.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

function blocksOf(content: Json): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (Array.isArray(content)) return content;
  throw validationError('Malformed input request: #/messages/content: expected type: String or JSONArray, please reformat your input and try again.');
}

function toConverseBlock(block: Json, out: Json[]): void {
  switch (block?.type) {
    case 'text':
      out.push({ text: block.text });
      break;
    case 'image':
      out.push({ image: { format: String(block.source?.media_type ?? '').replace('image/', ''), source: { bytes: block.source?.data } } });
      break;
    case 'document':
      out.push({ document: { format: 'pdf', name: 'document', source: { bytes: block.source?.data } } });
      break;
    case 'tool_use':
      out.push({ toolUse: { toolUseId: block.id, name: block.name, input: block.input ?? {} } });
      break;
    case 'tool_result': {
      const content = typeof block.content === 'string' ? [{ text: block.content }] : (block.content ?? []).map((c: Json) => (c.type === 'text' ? { text: c.text } : { json: c }));
      out.push({ toolResult: { toolUseId: block.tool_use_id, content } });
      break;
    }
    case 'thinking':
      out.push({ reasoningContent: { reasoningText: { text: block.thinking, signature: block.signature } } });
      break;
    case 'redacted_thinking':
      break;
    default:
      throw validationError(`messages: Input tag '${String(block?.type)}' found using 'type' does not match any of the expected tags`);
  }
  if (block?.cache_control) out.push({ cachePoint: { type: 'default' } });
}

/** Validates the native body's envelope and rewrites it as a Converse request body. */
export function anthropicToConverse(body: Json): Json {
  if (typeof body !== 'object' || body === null) throw validationError('Malformed input request: #: expected type: JSONObject, please reformat your input and try again.');
  if (body.anthropic_version === undefined) {
    throw validationError('Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.');
  }
  if (!Number.isInteger(body.max_tokens)) {
    throw validationError('Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.');
  }
  if (!Array.isArray(body.messages)) {
    throw validationError('Malformed input request: #: required key [messages] not found, please reformat your input and try again.');
  }
  const converse: Json = {
    messages: body.messages.map((m: Json) => {
      const content: Json[] = [];
      for (const block of blocksOf(m?.content)) toConverseBlock(block, content);
      return { role: m?.role, content };
    }),
    inferenceConfig: { maxTokens: body.max_tokens },
  };
  if (body.temperature !== undefined) converse.inferenceConfig.temperature = body.temperature;
  if (body.top_p !== undefined) converse.inferenceConfig.topP = body.top_p;
  if (body.stop_sequences !== undefined) converse.inferenceConfig.stopSequences = body.stop_sequences;
  if (body.system !== undefined) {
    const system: Json[] = [];
    for (const block of blocksOf(body.system)) {
      system.push({ text: block.text });
      if (block.cache_control) system.push({ cachePoint: { type: 'default' } });
    }
    converse.system = system;
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    converse.toolConfig = {
      // Anthropic-defined tools (bash_…, text_editor_…) carry a type and no schema.
      tools: body.tools.map((t: Json) => ({ toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.input_schema ?? { type: 'object' } } } })),
    };
    const choice = body.tool_choice;
    if (choice?.type === 'any') converse.toolConfig.toolChoice = { any: {} };
    else if (choice?.type === 'tool') converse.toolConfig.toolChoice = { tool: { name: choice.name } };
    else if (choice?.type === 'auto') converse.toolConfig.toolChoice = { auto: {} };
  }
  if (body.thinking !== undefined) converse.additionalModelRequestFields = { thinking: body.thinking };
  return converse;
}

function messageId(seed: string): string {
  return `msg_bdrk_${createHash('sha256').update(seed).digest('base64url').slice(0, 24)}`;
}

function renderNativeBlock(block: ReplyBlock): Json {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'reasoning':
      return { type: 'thinking', thinking: block.text, signature: block.signature };
    case 'toolUse':
      return { type: 'tool_use', id: block.toolUseId.replace(/^tooluse_/, 'toolu_bdrk_'), name: block.name, input: block.input };
  }
}

function nativeUsage(reply: ScriptedReply): Json {
  const usage: Json = { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens };
  if (reply.usage.cacheWriteInputTokens !== undefined) usage.cache_creation_input_tokens = reply.usage.cacheWriteInputTokens;
  if (reply.usage.cacheReadInputTokens !== undefined) usage.cache_read_input_tokens = reply.usage.cacheReadInputTokens;
  return usage;
}

/** The non-streamed native response. */
export function anthropicResponse(reply: ScriptedReply, modelId: string, seed: string): Json {
  return {
    id: messageId(seed),
    type: 'message',
    role: 'assistant',
    model: modelId,
    content: reply.blocks.map(renderNativeBlock),
    stop_reason: reply.stopReason,
    stop_sequence: null,
    usage: nativeUsage(reply),
  };
}

/** The native stream events (each becomes one `chunk{bytes: base64(JSON)}` frame). */
export function anthropicStreamEvents(reply: ScriptedReply, modelId: string, seed: string): { event: Json; delta: boolean }[] {
  const out: { event: Json; delta: boolean }[] = [];
  const usage = nativeUsage(reply);
  out.push({
    event: {
      type: 'message_start',
      message: { id: messageId(seed), type: 'message', role: 'assistant', model: modelId, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    },
    delta: false,
  });
  reply.blocks.forEach((block, index) => {
    const words = block.type === 'toolUse' ? [] : block.text.split(' ');
    if (block.type === 'text') {
      out.push({ event: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, delta: false });
      words.forEach((w, i) => out.push({ event: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: i === 0 ? w : ` ${w}` } }, delta: true }));
    } else if (block.type === 'reasoning') {
      out.push({ event: { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } }, delta: false });
      words.forEach((w, i) => out.push({ event: { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: i === 0 ? w : ` ${w}` } }, delta: true }));
      out.push({ event: { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } }, delta: true });
    } else {
      const rendered = renderNativeBlock(block);
      out.push({ event: { type: 'content_block_start', index, content_block: { ...rendered, input: {} } }, delta: false });
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      for (const part of json.length > 2 ? [json.slice(0, half), json.slice(half)] : [json]) {
        out.push({ event: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } }, delta: true });
      }
    }
    out.push({ event: { type: 'content_block_stop', index }, delta: false });
  });
  out.push({ event: { type: 'message_delta', delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage: { output_tokens: reply.usage.outputTokens } }, delta: false });
  out.push({
    event: {
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: reply.usage.inputTokens,
        outputTokenCount: reply.usage.outputTokens,
        invocationLatency: reply.latencyMs,
        firstByteLatency: reply.latencyMs,
        ...(reply.usage.cacheReadInputTokens !== undefined ? { cacheReadInputTokenCount: reply.usage.cacheReadInputTokens } : {}),
        ...(reply.usage.cacheWriteInputTokens !== undefined ? { cacheWriteInputTokenCount: reply.usage.cacheWriteInputTokens } : {}),
      },
    },
    delta: false,
  });
  return out;
}
