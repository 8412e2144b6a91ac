/** Bedrock Converse output -> OpenAI chat.completion object. */
import type { ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ConversePlan } from './chat-request.ts';
import { tokenUsageOf, toOpenAIUsage, type OpenAIUsage } from './usage.ts';

export { tokenUsageOf, toOpenAIUsage } from './usage.ts';
export type { OpenAIUsage } from './usage.ts';

export interface CompletionContext {
  /** e.g. 'chatcmpl-<uuid>' */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model name the client asked for, echoed back. */
  model: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: null;
  tool_calls?: ChatToolCall[];
  reasoning_content?: string;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [{ index: 0; message: ChatCompletionMessage; logprobs: null; finish_reason: FinishReason }];
  usage: OpenAIUsage;
}

/**
 * Bedrock stop reasons -> OpenAI finish reasons. malformed_* and the context-window stop have no
 * OpenAI equivalent: a truncated context is reported as 'length', a malformed output as 'stop'.
 */
export function finishReasonOf(stopReason: string | undefined | null): FinishReason {
  switch (stopReason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function toChatCompletion(output: ConverseCommandOutput, plan: ConversePlan, context: CompletionContext): ChatCompletion {
  const blocks = output.output?.message?.content ?? [];
  let text = '';
  let reasoning = '';
  let structured: string | null = null;
  const toolCalls: ChatToolCall[] = [];
  for (const block of blocks) {
    if (block.text !== undefined) {
      text += block.text;
    } else if (block.toolUse) {
      const use = block.toolUse;
      const args = JSON.stringify(use.input ?? {});
      if (plan.structuredOutputTool !== null && use.name === plan.structuredOutputTool) {
        structured = args;
      } else if (!plan.singleToolCall || toolCalls.length === 0) {
        toolCalls.push({ id: use.toolUseId ?? '', type: 'function', function: { name: use.name ?? '', arguments: args } });
      }
    } else if (block.reasoningContent?.reasoningText?.text !== undefined) {
      reasoning += block.reasoningContent.reasoningText.text;
    }
  }
  // The structured-output tool's input is the answer; any text around it would break JSON parsing.
  const content = structured ?? (text === '' && toolCalls.length > 0 ? null : text);
  const message: ChatCompletionMessage = { role: 'assistant', content, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;
  let finish = finishReasonOf(output.stopReason);
  if (finish === 'tool_calls' && toolCalls.length === 0) finish = 'stop';
  return {
    id: context.id,
    object: 'chat.completion',
    created: context.created,
    model: context.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: toOpenAIUsage(tokenUsageOf(output.usage)),
  };
}
