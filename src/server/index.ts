export { createGatewayApp, type GatewayApp, type GatewayAppOptions } from './app.ts';
export { startGateway, generateApiKey, type RunningGateway, type StartGatewayOptions } from './gateway.ts';
export { createBedrockClients, type BedrockClients, type BedrockClientsOptions } from './bedrock-clients.ts';
export { createImageFetcher, type ImageFetchOptions } from './image-fetcher.ts';
export { ModelList, type ModelEntry, type ModelListing } from './model-list.ts';
export { DEGRADED_HEADER } from './routes/models.ts';
export { CLIENT_CLOSED } from './routes/chat.ts';
