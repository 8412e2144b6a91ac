import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createBridgeApp, type BridgeAppHandle } from '../app/bridge-app.ts';
import { CredentialSourceError, credentialSourceHelp } from '../app/credential-options.ts';
import { openSettingsStore, readSettings, settingsFileIn } from '../app/settings-store.ts';
import { defaultDataDirectory } from '../core/paths.ts';
import { applyOverrides, DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, parseModelFlags, SettingsError, type SettingsOverrides } from '../core/settings.ts';
import type { RequestFinishedEvent } from '../core/request-events.ts';
import { defaultModelId, type ModelMapping } from '../core/model-catalog.ts';
import type { RunningGateway } from '../server/gateway.ts';
import type { UsagePipeline } from '../usage/index.ts';
import { helpHint, isArgsError } from './help-hint.ts';
import { openInBrowser } from './open-browser.ts';
import { messageOf } from '../core/error-message.ts';
import { printable } from '../core/client-text.ts';

/** Help lines stay within this many columns (a terminal's 100, with room to spare on 80 for most). */
const HELP_WIDTH = 100;
/** Where an --auth source's description starts: "      <name padded to 16> ". */
const AUTH_SOURCE_INDENT = 23;

/** Each line of `text` broken at spaces to fit HELP_WIDTH, continued under column `indent`. */
function wrapHelp(text: string, indent: number): string {
  return text
    .split('\n')
    .map((line) => {
      const out: string[] = [];
      let current = '';
      for (const word of line.split(/(?<=\S) (?=\S)/)) {
        if (current && current.length + 1 + word.length > HELP_WIDTH) {
          out.push(current);
          current = `${' '.repeat(indent)}${word}`;
        } else current = current ? `${current} ${word}` : word;
      }
      return [...out, current].join('\n');
    })
    .join('\n');
}

export function serveHelp(): string {
  return `Usage: bedrock-bridge serve [options]

Start the OpenAI-compatible server in front of Amazon Bedrock.

Options:
  --port N               Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR            Address to bind (default ${DEFAULT_HOST}). Anything but loopback exposes the
                         server to your network (a warning is printed); requests must still carry
                         the API key and a Host of ADDR:PORT
  --api-key KEY          The local API key clients must send (default: BEDROCK_BRIDGE_API_KEY,
                         then settings "apiKey", else a new random key printed at start)
  --region REGION        AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, settings, us-east-1)
  --config FILE          JSON settings file (default, if it exists:
                         ${settingsFileIn(defaultDataDirectory())})
  --model ALIAS=ID       Map a name to a Bedrock model id, inference profile or ARN (repeatable)
  --default-model NAME   Model used when a request names none (or names "default"): an alias or a
                         Bedrock id (default: Claude Sonnet 4.5, as gpt-4o)
  --allow-origin ORIGIN  Let a web page on ORIGIN call the API (exact, repeatable; no wildcards)
  --auth SOURCE          Where AWS credentials come from (default: settings auth.source, else the
                         source "bedrock-bridge login" saved, else default):
${wrapHelp(credentialSourceHelp(), AUTH_SOURCE_INDENT)}
  --emulator             Start the built-in Bedrock emulator and use it (no AWS account needed)
  --log-requests         Print one line per request to stderr (model, status, tokens, latency; never
                         prompt or completion text)
  -h, --help             Show this help

Environment:
  BEDROCK_BRIDGE_API_KEY            the local API key
  BEDROCK_BRIDGE_HOME               directory of settings.json
  AWS_REGION, AWS_PROFILE, AWS_*    the usual AWS SDK variables
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME  Bedrock runtime endpoint (VPC endpoint, emulator)
  AWS_ENDPOINT_URL_BEDROCK          Bedrock control-plane endpoint (model catalog)
`;
}

/** What `default` means, as the startup banner says it: `gpt-4o (global.anthropic...)` or the id alone. */
function describeDefaultModel(models: ModelMapping): string {
  const modelId = defaultModelId(models);
  if (modelId === null) return 'none (requests must name a model)';
  return models.defaultModel === null || models.defaultModel === modelId ? modelId : `${models.defaultModel} (${modelId})`;
}

export interface ServeIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: ServeIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export interface ServeHandle {
  app: BridgeAppHandle;
  gateway: RunningGateway;
  /** Stops the gateway (bounded grace), flushes usage, stops the clients and the emulator if any. */
  stop(graceMs?: number): Promise<void>;
}

/** `serve` could not start; the message is for the user, `exitCode` for the shell (2: fix the command or settings). */
export class ServeStartError extends Error {
  override readonly name = 'ServeStartError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** One line per request for --log-requests. Holds no prompt or completion text; what the client chose is escaped. */
export function formatRequestLine(event: RequestFinishedEvent): string {
  const time = new Date(event.endedAt).toISOString();
  const requested = event.requestedModel === null ? null : printable(event.requestedModel);
  const resolved = event.modelId === null ? null : printable(event.modelId);
  const model = requested && event.requestedModel !== event.modelId ? `${requested} -> ${resolved ?? '?'}` : (resolved ?? requested ?? '-');
  const tokens = `${event.usage.inputTokens + event.usage.cacheReadTokens + event.usage.cacheWriteTokens} in / ${event.usage.outputTokens} out`;
  const ttft = event.timeToFirstTokenMs !== null ? ` first token ${event.timeToFirstTokenMs} ms` : '';
  const error = event.errorType ? ` ${event.errorType}` : '';
  const dropped = event.droppedFields ? ` dropped ${event.droppedFields.map((name) => printable(name, 100)).join(',')}` : '';
  return `${time} ${event.status}${error} ${printable(event.route)}${event.stream ? ' (stream)' : ''} ${model} ${tokens} ${event.latencyMs} ms${ttft}${dropped}`;
}

function describeUsage(usage: UsagePipeline): string {
  const status = usage.status();
  const sync = status.sync.enabled ? `synced to ${status.sync.endpoint}` : `not synced (${status.sync.reason})`;
  return `${status.ledgerPath}, ${sync}`;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SettingsError(`--port expects 0-65535, got "${value}"`);
  return port;
}

/** Why start() did not end serving, as serve reports it. */
function startFailure(app: BridgeAppHandle): ServeStartError {
  const state = app.state;
  if (state.status === 'port-in-use') {
    return state.portHolder === 'bedrock-bridge'
      ? new ServeStartError(`Bedrock Bridge is already serving on http://127.0.0.1:${state.port}/v1 (another serve or the app). Use it, or pick another port with --port.`, 1)
      : new ServeStartError(`port ${state.port} is already in use by another program. Pick another with --port.`, 1);
  }
  const error = app.startError;
  if (error instanceof SettingsError || error instanceof CredentialSourceError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    return new ServeStartError(error.message, 2);
  }
  return new ServeStartError(error instanceof Error ? `${error.name}: ${error.message}` : state.message, 1);
}

/**
 * Parses flags, starts the app core (src/app), prints the base URL and the window's one-time link.
 * Returns null after printing help. `onReady` gets the handle once the server is listening, before the
 * banner says so: whoever reacts to the banner (a supervisor sending SIGTERM at once) then finds the
 * signal handlers in place.
 */
export async function startServe(argv: string[], io: ServeIo = defaultIo, onReady?: (handle: ServeHandle) => void): Promise<ServeHandle | null> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'api-key': { type: 'string' },
      region: { type: 'string' },
      config: { type: 'string' },
      model: { type: 'string', multiple: true },
      'default-model': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      auth: { type: 'string' },
      emulator: { type: 'boolean' },
      'log-requests': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(serveHelp());
    return null;
  }

  const dataDirectory = defaultDataDirectory(io.env);
  const settingsStore = await openSettingsStore(dataDirectory, values.config);
  const { settings: fileSettings } = readSettings(settingsStore);
  const overrides: SettingsOverrides = {
    port: values.port !== undefined ? parsePort(values.port) : undefined,
    host: values.host,
    apiKey: values['api-key'] ?? (io.env.BEDROCK_BRIDGE_API_KEY || undefined),
    region: values.region,
    models: values.model ? parseModelFlags(values.model) : undefined,
    defaultModel: values['default-model'],
    allowedOrigins: values['allow-origin'] ? [...fileSettings.allowedOrigins, ...values['allow-origin']] : undefined,
  };
  const settings = applyOverrides(fileSettings, overrides);
  if (!isLoopbackHost(settings.host)) {
    io.stderr('');
    io.stderr(`WARNING: listening on ${settings.host}, not loopback. Other machines on your network can reach`);
    io.stderr('WARNING: this server and spend your AWS credentials if they learn the API key.');
    io.stderr('');
  }

  const app = createBridgeApp({
    dataDirectory,
    settingsStore,
    overrides,
    ...(values.auth !== undefined ? { auth: values.auth } : {}),
    emulator: values.emulator === true,
    signInAtStart: true,
    env: io.env,
    log: io.stderr,
    openUrl: async (url) => {
      const opened = await openInBrowser(url, io.env);
      if (opened) io.stderr('(opened in your browser)');
      return opened;
    },
  });
  let shownCode: string | null = null;
  let serving = false;
  // Set once the banner is out; a stop after it (the window's "Restart now") makes the next serving state news.
  let announcedUrl: string | null = null;
  let stoppedSinceBanner = false;
  app.onStateChange((state) => {
    if (state.status === 'signing-in' && state.signIn && state.signIn.userCode !== shownCode) {
      shownCode = state.signIn.userCode;
      const prompt = { ...state.signIn, expiresAt: new Date(state.signIn.expiresAt) };
      // Loaded only for a sign-in: the credentials module brings the Identity Center and OIDC clients.
      void import('../credentials/index.ts').then(({ consoleSignInUi }) => consoleSignInUi(io.stderr).prompt(prompt));
    }
    if (state.status === 'needs-sign-in' && serving) {
      io.stderr('Your sign-in has ended: requests answer 401 until you sign in again (`bedrock-bridge login`, or the window); no restart needed.');
    }
    if (state.status === 'stopped' && announcedUrl) stoppedSinceBanner = true;
    if (state.status === 'serving' && stoppedSinceBanner && announcedUrl && state.baseUrl) {
      const moved = state.baseUrl === announcedUrl ? '' : ` (was ${announcedUrl}: point your tools at the new address; the API key is unchanged)`;
      io.stdout(`Restarted from the window: Base URL ${state.baseUrl}${moved}.`);
      announcedUrl = state.baseUrl;
      stoppedSinceBanner = false;
    }
    if ((state.status === 'port-in-use' || state.status === 'error') && stoppedSinceBanner) {
      io.stderr(`Restart from the window failed: ${state.message}`);
      stoppedSinceBanner = false;
    }
    serving = state.status === 'serving';
  });
  if (values['log-requests']) {
    app.events.on('request-finished', (event) => io.stderr(formatRequestLine(event)));
  }

  let state = await app.start();
  const gateway = app.gateway;
  const usage = app.usage;
  if (!gateway || !usage || !['serving', 'needs-sign-in', 'signing-in'].includes(state.status)) throw startFailure(app);
  if (app.startupSignIn) {
    // Listening already: a headless user can sign in from the window (it shows the code) while the terminal waits.
    io.stdout(`Signing in before serving. Window: ${app.uiLink()}  (one-time link: the sign-in code is shown there too)`);
    try {
      await app.startupSignIn;
    } catch {
      await app.stop({ graceMs: 0 });
      throw startFailure(app);
    }
    state = app.state;
  }

  const handle: ServeHandle = {
    app,
    gateway,
    stop: (graceMs) => app.stop(graceMs !== undefined ? { graceMs } : {}),
  };
  onReady?.(handle);

  io.stdout('Bedrock Bridge is ready.');
  io.stdout(`  Base URL:    ${gateway.url}`);
  io.stdout(`  Bedrock:     ${gateway.url.replace(/\/v1$/, '')}  (Bedrock Runtime endpoint for AWS SDKs and Claude Code's Bedrock mode)`);
  io.stdout(`  API key:     ${app.apiKeyGenerated ? `${gateway.apiKey}  (generated for this run; set --api-key or BEDROCK_BRIDGE_API_KEY to keep one)` : '(as configured)'}`);
  io.stdout(`  Region:      ${state.region}`);
  io.stdout(`  Default:     ${describeDefaultModel(gateway.models)}`);
  io.stdout(`  Credentials: ${app.credentialLabel ?? '-'}`);
  io.stdout(`  Usage:       ${describeUsage(usage)}`);
  if (existsSync(settingsStore.path)) io.stdout(`  Settings:    ${settingsStore.path}`);
  io.stdout(`  Window:      ${app.uiLink()}  (one-time link: opens the window in your browser)`);
  io.stdout('Press Ctrl+C to stop.');
  announcedUrl = gateway.url;
  return handle;
}

/**
 * `bedrock-bridge serve`: runs until SIGINT/SIGTERM, then drains in-flight requests and exits 0. The
 * handlers are in place before the ready banner; a signal while still starting (perhaps waiting for a
 * sign-in) ends the process at once, as it would without them.
 */
export async function runServe(argv: string[], io: ServeIo = defaultIo): Promise<number> {
  let running: ServeHandle | null = null;
  let finished!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => {
    finished = resolve;
  });
  const settle = (code: number) => {
    removeHandlers();
    finished(code);
  };
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!running) {
      // Nothing to drain yet: let the signal do what it does by default.
      removeHandlers();
      process.kill(process.pid, signal);
      return;
    }
    if (signalled) {
      io.stderr(`Received ${signal} while stopping: stopping now, cutting what is still in flight.`);
      settle(1);
      return;
    }
    signalled = true;
    const inFlight = running.gateway.inFlight;
    io.stdout(`Received ${signal}: no longer accepting connections${inFlight > 0 ? `, finishing ${inFlight} request(s) in flight` : ''}.`);
    running.stop().then(
      () => {
        io.stdout('Bedrock Bridge stopped.');
        settle(0);
      },
      (error: unknown) => {
        io.stderr(`Error while stopping: ${messageOf(error)}`);
        settle(1);
      },
    );
  };
  const removeHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let handle: ServeHandle | null;
  try {
    handle = await startServe(argv, io, (ready) => {
      running = ready;
    });
  } catch (error) {
    removeHandlers();
    if (error instanceof ServeStartError) {
      io.stderr(`bedrock-bridge serve: ${error.message}`);
      return error.exitCode;
    }
    if (isArgsError(error)) {
      io.stderr(`bedrock-bridge serve: ${error.message}\n${helpHint('serve')}`);
      return 2;
    }
    if (error instanceof SettingsError) {
      io.stderr(`bedrock-bridge serve: ${error.message}`);
      return 2;
    }
    io.stderr(`bedrock-bridge serve: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  }
  if (!handle) {
    removeHandlers();
    return 0;
  }
  return stopped;
}
