import { validationError } from './aws-errors.ts';
import type { EmulatedModel } from './catalog.ts';
import { thinkingSignature } from './scripted-model.ts';

/**
 * What Bedrock refuses in Claude's native InvokeModel body that the first-party Anthropic API accepts:
 * the requests Claude Code really sends to a gateway fail on these (research notes, section 3.5). The
 * bridge's sanitiser exists for them, so the emulator refuses them with Bedrock's wording.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

// The emulator keeps its own copy of Bedrock's rules (the bridge's are in src/core/anthropic-bedrock-rules.ts):
// shared, a wrong entry would pass the bridge's tests against the emulator instead of failing them.

/** The top-level fields InvokeModel takes for Claude; any other is an "extraneous key". */
const NATIVE_FIELDS = new Set([
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'output_config',
  'context_management',
]);

/**
 * The betas this emulated Bedrock accepts in `anthropic_beta`; any other fails the whole request with
 * "invalid beta flag", as on AWS (which accepts a different set per model, changing over time).
 */
export const EMULATOR_ACCEPTED_BETAS: ReadonlySet<string> = new Set([
  'claude-code-20250219',
  'interleaved-thinking-2025-05-14',
  'context-management-2025-06-27',
  'context-1m-2025-08-07',
  'effort-2025-11-24',
  'fine-grained-tool-streaming-2025-05-14',
  'token-efficient-tools-2025-02-19',
  'tool-search-tool-2025-10-19',
  'computer-use-2025-01-24',
  'computer-use-2025-11-24',
  'compact-2026-01-12',
]);

/** Anthropic-hosted (server) tools Bedrock does not run. */
const SERVER_TOOL_TYPE = /^(?:web_search|web_fetch|code_execution|mcp_toolset)_?/;

function extraInputs(path: string): Error {
  return validationError(`The model returned the following errors: ${path}: Extra inputs are not permitted`);
}


function checkCacheControl(block: Json, path: string): void {
  const cache = block?.cache_control;
  if (cache === undefined || cache === null) return;
  for (const key of Object.keys(cache)) {
    if (key !== 'type' && key !== 'ttl') throw extraInputs(`${path}.cache_control.${key}`);
  }
}

function checkMessages(messages: Json[]): void {
  messages.forEach((message, i) => {
    if (!Array.isArray(message?.content)) return;
    message.content.forEach((block: Json, j: number) => {
      checkCacheControl(block, `messages.${i}.content.${j}`);
      if (block?.type === 'thinking' && message.role === 'assistant' && block.signature !== thinkingSignature(String(block.thinking ?? ''))) {
        throw validationError(`The model returned the following errors: messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      }
    });
  });
}

/** Throws Bedrock's ValidationException for what a Claude model on Bedrock refuses in a native body. */
export function refuseUnsupportedNativeFields(body: Json, model: EmulatedModel): void {
  for (const key of Object.keys(body)) {
    if (!NATIVE_FIELDS.has(key)) {
      throw validationError(`Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`);
    }
  }
  if (body.anthropic_beta !== undefined) {
    if (!Array.isArray(body.anthropic_beta) || body.anthropic_beta.some((beta: unknown) => typeof beta !== 'string' || !EMULATOR_ACCEPTED_BETAS.has(beta))) {
      throw validationError('invalid beta flag');
    }
  }
  const edits = body.context_management?.edits;
  if (body.context_management !== undefined && (!Array.isArray(edits) || edits.some((edit: Json) => edit?.type !== 'compact_20260112'))) {
    throw extraInputs('context_management');
  }
  const output = body.output_config;
  if (output !== undefined) {
    if (output?.format !== undefined) throw extraInputs('output_config.format');
    if (!model.adaptiveThinking) throw extraInputs('output_config');
  }
  if (body.thinking?.type === 'adaptive' && !model.adaptiveThinking) {
    throw validationError(
      "The model returned the following errors: thinking: Input tag 'adaptive' found using 'type' does not match any of the expected tags: 'disabled', 'enabled'",
    );
  }
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool: Json, i: number) => {
      if (tool?.custom !== undefined) throw extraInputs(`tools.${i}.custom`);
      if (typeof tool?.type === 'string' && SERVER_TOOL_TYPE.test(tool.type)) {
        throw validationError(`The model returned the following errors: tools.${i}: Input tag '${tool.type}' found using 'type' does not match any of the expected tags`);
      }
      checkCacheControl(tool, `tools.${i}`);
    });
  }
  if (Array.isArray(body.system)) body.system.forEach((block: Json, i: number) => checkCacheControl(block, `system.${i}`));
  if (Array.isArray(body.messages)) checkMessages(body.messages);
}
