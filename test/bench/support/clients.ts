import http from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseCommandInput,
  type ConverseStreamCommandInput,
} from '@aws-sdk/client-bedrock-runtime';

/** What one scenario asks for; the same prompt goes to every target. */
export interface Scenario {
  name: string;
  label: string;
  stream: boolean;
  /** Content chunks the emulator is scripted to send (streaming only). */
  chunks: number;
  prompt: string;
}

/**
 * One request. Resolves with the performance.now() time the first content chunk arrived
 * (streams) or undefined (non-streaming); rejects on any failure.
 */
export type Call = () => Promise<number | undefined>;

/** Full result of one request, for the correctness check before measuring. */
export interface Checked {
  ok: boolean;
  detail: string;
  contentChunks: number;
  content: string;
}

export interface Target {
  name: 'direct' | 'bridge' | 'portkey';
  /** pid of the gateway process, for RSS and CPU; undefined for the in-process SDK baseline. */
  pid?: number;
  call(scenario: Scenario): Call;
  check(scenario: Scenario): Promise<Checked>;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Baseline: the real SDK client (built once and reused), calling the emulator directly. */
export function directTarget(options: { client: BedrockRuntimeClient; modelId: string }): Target & { client: BedrockRuntimeClient } {
  const { client } = options;
  const input = (scenario: Scenario): ConverseCommandInput & ConverseStreamCommandInput => ({
    modelId: options.modelId,
    messages: [{ role: 'user', content: [{ text: scenario.prompt }] }],
  });
  return {
    name: 'direct',
    client,
    call(scenario) {
      const request = input(scenario);
      if (!scenario.stream) {
        return async () => {
          const response = await client.send(new ConverseCommand(request));
          if (!response.output?.message) throw new Error('direct: no output message');
          return undefined;
        };
      }
      return async () => {
        const response = await client.send(new ConverseStreamCommand(request));
        let first: number | undefined;
        for await (const event of response.stream!) {
          if (first === undefined && event.contentBlockDelta?.delta?.text) first = performance.now();
        }
        return first;
      };
    },
    async check(scenario) {
      const request = input(scenario);
      if (!scenario.stream) {
        const response = await client.send(new ConverseCommand(request));
        const content = (response.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
        return { ok: content.length > 0, detail: `stopReason=${response.stopReason}`, contentChunks: 1, content };
      }
      const response = await client.send(new ConverseStreamCommand(request));
      let content = '';
      let chunks = 0;
      let stopReason = '';
      for await (const event of response.stream!) {
        const text = event.contentBlockDelta?.delta?.text;
        if (text) {
          chunks += 1;
          content += text;
        }
        if (event.messageStop) stopReason = event.messageStop.stopReason ?? '';
      }
      return { ok: chunks > 0, detail: `stopReason=${stopReason}`, contentChunks: chunks, content };
    },
  };
}

interface HttpTargetOptions {
  name: 'bridge' | 'portkey';
  pid: number;
  /** Base URL of the gateway, e.g. http://127.0.0.1:1234 */
  baseUrl: string;
  headers: Record<string, string>;
  model: string;
  agent: http.Agent;
  /** Which OpenAI API to call: Chat Completions (default) or Responses. */
  api?: 'chat' | 'responses';
  /** What a stream's first-chunk time marks: the first content (default) or the first SSE event of any kind. */
  first?: 'content' | 'event';
}

/** Finds the first non-empty `choices[0].delta.content` in complete SSE events of `text`. */
function scanEvents(
  text: string,
  onEvent: (data: string) => void,
): string {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n\n', start);
    if (end === -1) return text.slice(start);
    const event = text.slice(start, end);
    start = end + 2;
    for (const line of event.split('\n')) {
      if (line.startsWith('data:')) onEvent(line.slice(5).trim());
    }
  }
}

function contentOf(data: string): string {
  if (data === '[DONE]') return '';
  const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string | null } }[]; error?: unknown };
  if (parsed.error) throw new Error(`error event: ${data.slice(0, 300)}`);
  return parsed.choices?.[0]?.delta?.content ?? '';
}

/** The text a Responses stream event adds (`response.output_text.delta`), '' for other events. */
function responsesContentOf(data: string): string {
  const parsed = JSON.parse(data) as { type?: string; delta?: string };
  if (parsed.type === 'response.failed' || parsed.type === 'error') throw new Error(`failed: ${data.slice(0, 300)}`);
  return parsed.type === 'response.output_text.delta' ? (parsed.delta ?? '') : '';
}

/** An OpenAI-compatible gateway reached with node:http and a keep-alive agent (same for both). */
export function openAiTarget(options: HttpTargetOptions): Target {
  const responses = options.api === 'responses';
  const url = new URL(responses ? '/v1/responses' : '/v1/chat/completions', options.baseUrl);
  const textOf = responses ? responsesContentOf : contentOf;
  const bodies = new Map<string, Buffer>();
  const bodyFor = (scenario: Scenario): Buffer => {
    let body = bodies.get(scenario.name);
    if (!body) {
      const request = responses
        ? { model: options.model, input: scenario.prompt, stream: scenario.stream, store: false }
        : { model: options.model, messages: [{ role: 'user', content: scenario.prompt }], stream: scenario.stream };
      body = Buffer.from(JSON.stringify(request));
      bodies.set(scenario.name, body);
    }
    return body;
  };

  /** Sends one request; `onText` sees the body as it arrives; resolves when it ends. */
  const send = (body: Buffer, onText: (chunk: string) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: options.agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: url.pathname,
          headers: { ...options.headers, 'content-type': 'application/json', 'content-length': body.length },
        },
        (response) => {
          response.setEncoding('utf8');
          if (response.statusCode !== 200) {
            let text = '';
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => reject(new Error(`${options.name}: HTTP ${response.statusCode}: ${text.slice(0, 500)}`)));
            return;
          }
          response.on('data', onText);
          response.on('end', resolve);
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  return {
    name: options.name,
    pid: options.pid,
    call(scenario) {
      const body = bodyFor(scenario);
      if (!scenario.stream) {
        return async () => {
          let size = 0;
          await send(body, (chunk) => (size += chunk.length));
          if (size === 0) throw new Error(`${options.name}: empty body`);
          return undefined;
        };
      }
      return async () => {
        let first: number | undefined;
        let pending = '';
        await send(body, (chunk) => {
          if (first !== undefined) return;
          pending = scanEvents(pending + chunk, (data) => {
            if (first === undefined && (options.first === 'event' || textOf(data))) first = performance.now();
          });
        });
        if (first === undefined) throw new Error(`${options.name}: stream ended without content`);
        return first;
      };
    },
    async check(scenario) {
      let raw = '';
      await send(bodyFor(scenario), (chunk) => (raw += chunk));
      if (!scenario.stream && responses) {
        const parsed = JSON.parse(raw) as { status?: string; output?: { content?: { text?: string }[] }[] };
        const content = parsed.output?.[0]?.content?.[0]?.text ?? '';
        return { ok: content.length > 0, detail: `status=${parsed.status}`, contentChunks: 1, content };
      }
      if (!scenario.stream) {
        const parsed = JSON.parse(raw) as { choices?: { message?: { content?: string }; finish_reason?: string }[] };
        const content = parsed.choices?.[0]?.message?.content ?? '';
        return { ok: content.length > 0, detail: `finish_reason=${parsed.choices?.[0]?.finish_reason}`, contentChunks: 1, content };
      }
      let content = '';
      let chunks = 0;
      let done = false;
      scanEvents(raw.endsWith('\n\n') ? raw : `${raw}\n\n`, (data) => {
        if (data === '[DONE]' || (responses && data.includes('"type":"response.completed"'))) done = true;
        const text = textOf(data);
        if (text) {
          chunks += 1;
          content += text;
        }
      });
      const end = responses ? 'response.completed' : '[DONE]';
      return { ok: done && chunks > 0, detail: done ? `ends with ${end}` : `no ${end}`, contentChunks: chunks, content };
    },
  };
}
