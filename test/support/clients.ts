import type { TestEmulator } from './bridge.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Shared fixtures for the real-client tests (test/clients): model names, tool definitions, the
 * emulator's echo rule, and access to the Converse requests the emulator recorded.
 */

/** An alias every OpenAI-first client knows; the gateway maps it to a Claude inference profile. */
export const CHAT_MODEL = 'gpt-4o';
/** Maps to Titan Text Embeddings V2. */
export const EMBEDDING_MODEL = 'text-embedding-3-small';

/**
 * The emulated model answers a tool call with an instance of the tool's schema (first `examples`
 * entry, first `enum` value, `minimum` ...), so these schemas pin the exact arguments.
 */
export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name', examples: ['Paris'] },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1 },
    },
    required: ['city', 'unit', 'days'],
    additionalProperties: false,
  },
} as const;
export const WEATHER_ARGS = { city: 'Paris', unit: 'celsius', days: 1 };

export const TIME_TOOL = {
  name: 'get_time',
  description: 'Current local time in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', examples: ['Tokyo'] } },
    required: ['city'],
    additionalProperties: false,
  },
} as const;
export const TIME_ARGS = { city: 'Tokyo' };

/** The text the emulated model writes before unforced tool calls. */
export function callingText(...names: string[]): string {
  return `Calling ${names.join(', ')}.`;
}

/**
 * What the emulator answers to a plain prompt (its deterministic echo rule, src/emulator/scripted-model.ts):
 * `echo: ` and the prompt's words, markers such as `[[tool]]` removed, joined by single spaces.
 */
export function echoOf(prompt: string): string {
  const words = prompt.replace(/\[\[([a-z-]+)(?::([^\]]*))?\]\]/g, ' ').trim().split(/\s+/).filter((word) => word !== '');
  return words.length > 0 ? `echo: ${words.join(' ')}` : 'echo:';
}

/** The last Converse / ConverseStream request body the emulator received. */
export function lastConverseRequest(emulator: TestEmulator): ConverseBody {
  const last = emulator.recorder.last('Converse');
  const lastStream = emulator.recorder.last('ConverseStream');
  const latest = last && lastStream ? (last.seq > lastStream.seq ? last : lastStream) : (last ?? lastStream);
  if (!latest) throw new Error('the emulator recorded no Converse request');
  return latest.body as ConverseBody;
}

/** The parts of a recorded Converse request body the client tests look at (loosely typed JSON). */
export interface ConverseBody {
  messages: Array<{ role: string; content: Array<Record<string, any>> }>;
  system?: Array<Record<string, any>>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: Array<{ toolSpec?: { name: string; description?: string; inputSchema: { json: unknown } } }>; toolChoice?: Record<string, unknown> };
  additionalModelRequestFields?: Record<string, any>;
  outputConfig?: Record<string, any>;
}
