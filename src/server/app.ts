import type { BedrockClient } from '@aws-sdk/client-bedrock';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { Hono } from 'hono';
import type { ImageResolver } from '../core/chat-request.ts';
import { printable } from '../core/client-text.ts';
import { messageOf } from '../core/error-message.ts';
import type { ModelMapping } from '../core/model-catalog.ts';
import { CHAT_ROUTE, COUNT_TOKENS_ROUTE, EMBEDDINGS_ROUTE, MESSAGES_ROUTE, RequestEventBus, RESPONSES_ROUTE } from '../core/request-events.ts';
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_IMAGE_MAX_BYTES, DEFAULT_IMAGE_TIMEOUT_MS, DEFAULT_MODEL_CACHE_SECONDS } from '../core/settings.ts';
import { dialectErrorMiddleware } from './dialect.ts';
import { errorResponse } from './error-response.ts';
import { apiKeyGuard } from './guards/api-key.ts';
import { bodyLimitGuard } from './guards/body-limit.ts';
import { allowedHostsFor, hostGuard } from './guards/host.ts';
import { jsonBodyGuard, type JsonBodyVariables } from './guards/json-body.ts';
import { originGuard } from './guards/origin.ts';
import { createImageFetcher } from './image-fetcher.ts';
import { ModelList } from './model-list.ts';
import { requestLogMiddleware, type RequestLogVariables } from './request-log.ts';
import { bedrockControlPlaneHandlers } from './routes/bedrock-control-plane.ts';
import { BEDROCK_NATIVE_PATH_PATTERN, bedrockPassthroughHandler } from './routes/bedrock-passthrough.ts';
import { chatCompletionsHandler } from './routes/chat.ts';
import { embeddingsHandler } from './routes/embeddings.ts';
import { messagesHandlers } from './routes/messages.ts';
import { ResponseStore } from './response-store.ts';
import { createResponseHandler, deleteResponseHandler, inputItemsHandler, retrieveResponseHandler } from './routes/responses.ts';
import { listModelsHandler, retrieveModelHandler } from './routes/models.ts';

export interface GatewayAppOptions {
  /** The local API key clients must present. */
  apiKey: string;
  /** The port the server listens on: the Host allow-list is `127.0.0.1|localhost|[::1]:<port>`. */
  port: number;
  /** More `host:port` values to accept (e.g. the address given to --host). */
  extraAllowedHosts?: readonly string[];
  /** Browser origins allowed to call the API (exact match). Default: none. */
  allowedOrigins?: readonly string[];
  models: ModelMapping;
  region: string;
  /** Built once and reused by every request (HTTP/2 session reuse). */
  runtime: BedrockRuntimeClient;
  /** The control-plane client, for the model catalog. */
  control: BedrockClient;
  events?: RequestEventBus;
  bodyLimitBytes?: number;
  /** Resolves http(s) image URLs; defaults to createImageFetcher with `imageFetch`. */
  resolveImage?: ImageResolver;
  imageFetch?: { enabled?: boolean; maxBytes?: number; timeoutMs?: number; allowHosts?: readonly string[] };
  /** How long the model catalog is cached (default 600 000 ms). */
  modelCacheMs?: number;
  /** Bedrock calls in flight at once for one embeddings request (default 8). */
  embeddingConcurrency?: number;
  /**
   * Where stored responses (Responses API `store`, `previous_response_id`) live; its owner closes it.
   * Default: in memory, for this app's lifetime.
   */
  responseStore?: ResponseStore;
  /** Told once per run of control-plane failures; default: one warning line on stderr. */
  onModelCatalogError?: (error: unknown) => void;
  /** A /v1/messages stream silent this long gets an `event: ping` (default 10 000 ms). */
  messagesPingIntervalMs?: number;
}

export interface GatewayApp {
  app: Hono<{ Variables: JsonBodyVariables & RequestLogVariables }>;
  events: RequestEventBus;
  modelList: ModelList;
  /** The mapping in use (a copy of options.models); read it, change it with setModels(). */
  readonly models: ModelMapping;
  /** Switches aliases and the default model for every following request (e.g. from the tray). */
  setModels(next: ModelMapping): void;
}

const DEFAULT_MESSAGES_PING_MS = 10_000;

function warnCatalog(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.warn(`bedrock-bridge: could not read the Bedrock model catalog (serving the configured aliases only): ${message}`);
}

/**
 * The OpenAI-compatible API as a hono app. Every route, unknown ones included, passes the guards in
 * this order: Host allow-list, Origin, API key, body limit, JSON body. Every request, rejected or
 * not, emits one `request-finished` event (requestLogMiddleware, ahead of the guards).
 */
export function createGatewayApp(options: GatewayAppOptions): GatewayApp {
  const events = options.events ?? new RequestEventBus();
  const resolveImage =
    options.resolveImage ??
    createImageFetcher({
      enabled: options.imageFetch?.enabled ?? true,
      maxBytes: options.imageFetch?.maxBytes ?? DEFAULT_IMAGE_MAX_BYTES,
      timeoutMs: options.imageFetch?.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS,
      allowHosts: options.imageFetch?.allowHosts ?? [],
    });
  // One mutable mapping shared by the routes and the model list, so setModels() applies at once.
  const models: ModelMapping = { aliases: { ...options.models.aliases }, defaultModel: options.models.defaultModel };
  const modelList = new ModelList({
    client: options.control,
    mapping: models,
    ttlMs: options.modelCacheMs ?? DEFAULT_MODEL_CACHE_SECONDS * 1000,
    onError: options.onModelCatalogError ?? warnCatalog,
  });

  const app = new Hono<{ Variables: JsonBodyVariables & RequestLogVariables }>();
  app.use(requestLogMiddleware(events, options.region));
  app.use(dialectErrorMiddleware());
  app.use(hostGuard(allowedHostsFor(options.port, options.extraAllowedHosts)));
  app.use(originGuard(options.allowedOrigins ?? []));
  // Connection-warming probes (Claude Code's HEAD /api/hello): answered at once, without the API key,
  // as they carry none and learn nothing; Host and Origin are checked like any request.
  app.use(async (c, next) => (c.req.method === 'HEAD' && (c.req.path === '/' || c.req.path === '/api/hello') ? c.body(null, 200) : next()));
  app.use(apiKeyGuard(options.apiKey));
  app.use(bodyLimitGuard(options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES));
  app.use(jsonBodyGuard());

  const common = { runtime: options.runtime, models, effectiveModelOf: (modelId: string) => modelList.effectiveModelOf(modelId) };
  app.post(CHAT_ROUTE, chatCompletionsHandler({ ...common, resolveImage }));
  const store = options.responseStore ?? new ResponseStore();
  app.post(RESPONSES_ROUTE, createResponseHandler({ ...common, resolveImage, store }));
  app.get(`${RESPONSES_ROUTE}/:id`, retrieveResponseHandler(store));
  app.delete(`${RESPONSES_ROUTE}/:id`, deleteResponseHandler(store));
  app.get(`${RESPONSES_ROUTE}/:id/input_items`, inputItemsHandler(store));
  app.post(EMBEDDINGS_ROUTE, embeddingsHandler({ ...common, concurrency: options.embeddingConcurrency ?? 8 }));
  const messages = messagesHandlers({ ...common, pingIntervalMs: options.messagesPingIntervalMs ?? DEFAULT_MESSAGES_PING_MS });
  app.post(MESSAGES_ROUTE, messages.messages);
  app.post(COUNT_TOKENS_ROUTE, messages.countTokens);
  app.get('/v1/models', listModelsHandler(modelList, options.region));
  app.get('/v1/models/:id{.+}', retrieveModelHandler(modelList, options.region));
  app.post(BEDROCK_NATIVE_PATH_PATTERN, bedrockPassthroughHandler(common));
  const controlPlane = bedrockControlPlaneHandlers(modelList, models);
  app.get('/inference-profiles', controlPlane.listInferenceProfiles);
  app.get('/inference-profiles/:id', controlPlane.getInferenceProfile);
  app.get('/foundation-models', controlPlane.listFoundationModels);
  app.get('/foundation-models/:id', controlPlane.getFoundationModel);

  app.notFound((c) =>
    errorResponse(404, `Unknown endpoint ${c.req.method} ${c.req.path}. Bedrock Bridge serves /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/messages, /v1/models and the Bedrock Runtime API under /model/{modelId}/.`, 'invalid_request_error', 'unknown_url'),
  );
  app.onError((error) => {
    console.error(`bedrock-bridge: unhandled error: ${printable(messageOf(error), 1000)}`);
    return errorResponse(500, 'Internal error in Bedrock Bridge.', 'api_error', 'internal_error');
  });
  return {
    app,
    events,
    modelList,
    models,
    setModels(next) {
      models.aliases = { ...next.aliases };
      models.defaultModel = next.defaultModel;
    },
  };
}
