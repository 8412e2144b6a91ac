/**
 * The org gateway's discovery contract (BRIEF section 6), shared by the client
 * (src/credentials/org-gateway.ts) and the emulator (src/emulator/org-gateway.ts).
 */

/** Where the gateway describes the org, relative to its URL. */
export const ORG_GATEWAY_WELL_KNOWN_PATH = '/.well-known/bedrock-bridge';

/** `GET {gateway}/.well-known/bedrock-bridge`. */
export interface OrgGatewayDocument {
  issuer: string;
  client_id: string;
  scopes: string[];
  credentials_endpoint: string;
  usage_endpoint: string;
  region: string;
  models?: Record<string, string>;
  default_model?: string;
}
