import { parseArgs } from 'node:util';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { join } from 'node:path';
import { defaultDataDirectory } from '../core/paths.ts';
import {
  applyOverrides,
  DEFAULT_HOST,
  DEFAULT_PORT,
  isLoopbackHost,
  modelMappingOf,
  type OrgModelChoices,
  parseModelFlags,
  resolveRegion,
  SettingsError,
  type Settings,
  type SettingsOverrides,
} from '../core/settings.ts';
import type { RequestFinishedEvent } from '../core/request-events.ts';
import { defaultModelId, type ModelMapping } from '../core/model-catalog.ts';
import { createBedrockClients } from '../server/bedrock-clients.ts';
import { generateApiKey, startGateway, type RunningGateway } from '../server/gateway.ts';
import type { CredentialSource } from '../credentials/credential-source.ts';
import { CredentialConfigurationError } from '../credentials/errors.ts';
import type { OrgGatewayDocument } from '../credentials/org-gateway-contract.ts';
import type { UsagePipeline } from '../usage/index.ts';
import { followSignIn } from '../usage/follow-sign-in.ts';
import { CredentialSourceError, credentialSourceHelp, credentialSourceName, resolveCredentials, savedSignInSource } from './credential-options.ts';
import { loadSettings, defaultSettingsPath } from './settings-file.ts';
import { messageOf } from '../core/error-message.ts';
import { printable } from '../core/client-text.ts';

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
  --config FILE          JSON settings file (default: ${defaultSettingsPath()} if it exists)
  --model ALIAS=ID       Map a model name to a Bedrock model id, inference profile or ARN (repeatable)
  --default-model NAME   Model used when a request names none (or names "default"): an alias or a
                         Bedrock id (default: Claude Sonnet 4.5, as gpt-4o)
  --allow-origin ORIGIN  Let a web page on ORIGIN call the API (exact match, repeatable; no wildcards)
  --auth SOURCE          Where AWS credentials come from (default: settings auth.source, else the
                         source "bedrock-bridge login" saved, else default):
${credentialSourceHelp()}
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
  gateway: RunningGateway;
  /** Stops the gateway (bounded grace), the clients and the emulator if any. */
  stop(graceMs?: number): Promise<void>;
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
  return `${time} ${event.status}${error} ${printable(event.route)}${event.stream ? ' (stream)' : ''} ${model} ${tokens} ${event.latencyMs} ms${ttft}`;
}

/** How long quitting may wait for the last audit sync; unsynced records stay in the ledger for next time. */
const USAGE_SYNC_AT_QUIT_MS = 3000;

function isOrgGateway(source: CredentialSource): source is CredentialSource & { describe(): Promise<OrgGatewayDocument> } {
  return source.kind === 'org-gateway' && 'describe' in source;
}

interface UsageWiring {
  dataDirectory: string;
  settings: Settings;
  gateway: RunningGateway;
  source: CredentialSource | null;
  region: string;
  orgUsageEndpoint: string | null;
}

/** Every request the gateway answers becomes a usage record; synced to the org when it names an audit endpoint. */
async function startUsage(wiring: UsageWiring): Promise<UsagePipeline> {
  const { startUsagePipeline, usageSettingsSchema } = await import('../usage/index.ts');
  const usage = usageSettingsSchema.parse(wiring.settings.usage);
  // The identity proof goes to the STS endpoint (and region) Identity Center's identity lookups use,
  // merged from sign-in.json and settings as the source itself was.
  let sts: { stsEndpoint: string; stsRegion: string } | null = null;
  if (wiring.source?.kind === 'identity-center') {
    const { resolveCredentialSettings } = await import('../credentials/index.ts');
    const identityCenter = (await resolveCredentialSettings(wiring.settings.auth, wiring.dataDirectory, 'identity-center')).identityCenter;
    if (identityCenter?.stsEndpoint) sts = { stsEndpoint: identityCenter.stsEndpoint, stsRegion: identityCenter.region };
  }
  return startUsagePipeline({
    ...sts,
    dataDir: wiring.dataDirectory,
    events: wiring.gateway.events,
    source: wiring.source,
    usageEndpoint: wiring.orgUsageEndpoint ?? usage.endpoint ?? null,
    region: wiring.region,
    prices: usage.prices,
    retentionDays: usage.retentionDays,
    syncIntervalMs: usage.syncIntervalSeconds * 1000,
    durability: usage.durability,
  });
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

/**
 * The SDK's chain is asked once before serving, as the other sources are: long-lived keys it would
 * refuse stop `serve` now rather than failing every request. Finding nothing is only a warning: an
 * `aws sso login` or exported keys can still come, and the chain is asked again on each request.
 */
async function askDefaultChainAtStart(provider: AwsCredentialIdentityProvider, io: ServeIo): Promise<void> {
  try {
    await provider();
  } catch (error) {
    if (error instanceof CredentialConfigurationError) throw new CredentialSourceError(error.message);
    const reason = messageOf(error);
    io.stderr(`Warning: the AWS SDK credential chain found no credentials yet (${reason}).`);
    io.stderr('Warning: requests answer 401 until it does: run `aws sso login`, export AWS credentials, or use `bedrock-bridge login`.');
  }
}

/**
 * Parses flags, starts everything, prints the base URL. Returns null after printing help.
 * `onReady` gets the handle once the server is listening, before the banner says so: whoever reacts
 * to the banner (a supervisor sending SIGTERM at once) then finds the signal handlers in place.
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

  const { settings: fileSettings, path: settingsPath } = loadSettings(values.config, io.env);
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
  const generatedKey = settings.apiKey === undefined;
  const apiKey = settings.apiKey ?? generateApiKey();

  if (!isLoopbackHost(settings.host)) {
    io.stderr('');
    io.stderr(`WARNING: listening on ${settings.host}, not loopback. Other machines on your network can reach`);
    io.stderr('WARNING: this server and spend your AWS credentials if they learn the API key.');
    io.stderr('');
  }

  const dataDirectory = defaultDataDirectory(io.env);
  let emulator: { url: string; close(): Promise<void> } | null = null;
  let credentials;
  let source: CredentialSource | null = null;
  let runtimeEndpoint = settings.endpoints.bedrockRuntime;
  let controlEndpoint = settings.endpoints.bedrock;
  let credentialLabel: string;
  let region = resolveRegion(values.region, io.env, fileSettings);
  let orgModels: OrgModelChoices = {};
  let orgUsageEndpoint: string | null = null;
  if (values.emulator) {
    if (values.auth !== undefined) {
      throw new CredentialSourceError(`--emulator brings its own credentials; leave out --auth ${values.auth} (or drop --emulator to use real AWS).`);
    }
    const { startEmulator, DEFAULT_EMULATOR_CREDENTIALS } = await import('../emulator/index.ts');
    const started = await startEmulator({ port: 0, host: '127.0.0.1', region });
    emulator = started;
    credentials = { accessKeyId: DEFAULT_EMULATOR_CREDENTIALS.accessKeyId, secretAccessKey: DEFAULT_EMULATOR_CREDENTIALS.secretAccessKey };
    runtimeEndpoint = started.url;
    controlEndpoint = started.url;
    credentialLabel = `built-in emulator at ${started.url}`;
  } else {
    const explicit = values.auth !== undefined || typeof (settings.auth as { source?: unknown }).source === 'string';
    const name = credentialSourceName(values.auth, settings, explicit ? null : await savedSignInSource(dataDirectory));
    ({ provider: credentials, source } = await resolveCredentials(name, { env: io.env, settings, region, dataDirectory }));
    credentialLabel = name === 'default' ? 'default (the AWS SDK credential chain)' : name;
    if (name === 'default') await askDefaultChainAtStart(credentials, io);
    if (source && isOrgGateway(source)) {
      const org = await source.describe();
      // The org's choices fill what the user did not set: their own flags and settings win.
      if (!values.region && !io.env.AWS_REGION && !io.env.AWS_DEFAULT_REGION && org.region) region = org.region;
      orgModels = { aliases: org.models, defaultModel: org.default_model };
      orgUsageEndpoint = org.usage_endpoint;
    }
    source?.onSignInRequired(() => io.stderr('Your sign-in has ended: requests answer 401 until you run `bedrock-bridge login` (or restart serve).'));
  }

  let models: ModelMapping;
  try {
    // Only now: a default model may name one of the org's aliases.
    models = modelMappingOf(settings, orgModels);
  } catch (error) {
    await emulator?.close();
    throw error;
  }

  const clients = createBedrockClients({
    region,
    ...(credentials ? { credentials } : {}),
    ...(runtimeEndpoint ? { runtimeEndpoint } : {}),
    ...(controlEndpoint ? { controlEndpoint } : {}),
    maxAttempts: settings.maxAttempts,
  });

  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      port: settings.port,
      host: settings.host,
      apiKey,
      allowedOrigins: settings.allowedOrigins,
      models,
      region,
      runtime: clients.runtime,
      control: clients.control,
      bodyLimitBytes: settings.bodyLimitBytes,
      imageFetch: settings.imageFetch,
      modelCacheMs: settings.modelCacheSeconds * 1000,
    });
  } catch (error) {
    clients.destroy();
    await emulator?.close();
    throw error;
  }

  // Emulator traffic goes to its own ledger so trying things out never mixes with real spend.
  const usage = await startUsage({
    dataDirectory: emulator ? join(dataDirectory, 'emulator') : dataDirectory,
    settings,
    gateway,
    source,
    region,
    orgUsageEndpoint,
  });

  const unfollowSignIn = source ? followSignIn(source, () => usage.signedIn()) : () => {};

  if (values['log-requests']) {
    gateway.events.on('request-finished', (event) => io.stderr(formatRequestLine(event)));
  }

  let stopping: Promise<void> | null = null;
  const handle: ServeHandle = {
    gateway,
    stop(graceMs = settings.shutdownGraceMs) {
      stopping ??= (async () => {
        await gateway.close(graceMs);
        unfollowSignIn();
        await usage.close({ syncTimeoutMs: USAGE_SYNC_AT_QUIT_MS });
        clients.destroy();
        await emulator?.close();
      })();
      return stopping;
    },
  };
  onReady?.(handle);

  io.stdout('Bedrock Bridge is ready.');
  io.stdout(`  Base URL:    ${gateway.url}`);
  io.stdout(`  Bedrock:     ${gateway.url.replace(/\/v1$/, '')}  (Bedrock Runtime endpoint for AWS SDKs and Claude Code's Bedrock mode)`);
  io.stdout(`  API key:     ${generatedKey ? `${apiKey}  (generated for this run; set --api-key or BEDROCK_BRIDGE_API_KEY to keep one)` : '(as configured)'}`);
  io.stdout(`  Region:      ${region}`);
  io.stdout(`  Default:     ${describeDefaultModel(models)}`);
  io.stdout(`  Credentials: ${credentialLabel}`);
  io.stdout(`  Usage:       ${describeUsage(usage)}`);
  if (settingsPath) io.stdout(`  Settings:    ${settingsPath}`);
  io.stdout('Press Ctrl+C to stop.');
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
    if (error instanceof SettingsError || error instanceof CredentialSourceError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`bedrock-bridge serve: ${error.message}`);
      return 2;
    }
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      io.stderr(`bedrock-bridge serve: the port is already in use (${error.message}). Pick another with --port.`);
      return 1;
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
