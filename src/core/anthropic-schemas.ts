/**
 * The envelope of an Anthropic Messages request the bridge checks itself (zod v4, built once): what it
 * needs to route the request. Everything inside (content blocks, tools, thinking, …) is Anthropic's
 * to define and Bedrock's to validate, so it stays loose and passes on untouched; Bedrock's own
 * refusals come back in Anthropic's error shape.
 */
import { z } from 'zod';
import { invalidRequest, type OpenAIError } from './openai-errors.ts';

const messageSchema = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});

const countTokensSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(messageSchema),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
});

const messagesSchema = countTokensSchema.extend({
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
});

export type CountTokensRequest = z.infer<typeof countTokensSchema>;
export type MessagesRequest = z.infer<typeof messagesSchema>;

/** Anthropic's wording: `messages.0.role: Input should be 'user' or 'assistant'`, `max_tokens: Field required`. */
function requestError(error: z.ZodError, body: unknown): OpenAIError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalidRequest('The request body must be a JSON object.');
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
  return invalidRequest(`${path}: ${missing ? 'Field required' : issue.message}`, path || null);
}

export function parseMessagesRequest(body: unknown): MessagesRequest {
  const parsed = messagesSchema.safeParse(body);
  if (!parsed.success) throw requestError(parsed.error, body);
  return parsed.data;
}

export function parseCountTokensRequest(body: unknown): CountTokensRequest {
  const parsed = countTokensSchema.safeParse(body);
  if (!parsed.success) throw requestError(parsed.error, body);
  return parsed.data;
}
