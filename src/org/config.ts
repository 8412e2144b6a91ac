import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The gateway's configuration file (JSON, checked here; see docs/org-gateway.md). Secrets are not
 * in it: the database URL comes from DATABASE_URL and AWS credentials from the environment's chain.
 */
const url = z.string().url();
const modelList = z.array(z.string().min(1)).min(1);
const budget = z.number().nonnegative();

const ruleSchema = z.strictObject({
  /** Matches when the user is one of these. */
  users: z.array(z.string()).optional(),
  /** Matches when the user is in any of these groups. */
  groups: z.array(z.string()).optional(),
  /** Matches when every named claim equals the value (or one of the values). */
  claims: z.record(z.string(), z.union([z.string(), z.array(z.string()), z.boolean()])).optional(),
  /** false refuses the users it matches (with `reason`). */
  allow: z.boolean().default(true),
  /** Model aliases (from `models`) or Bedrock model/inference-profile ids; `*` matches any characters. Default: all. */
  models: modelList.default(['*']),
  /** USD per calendar month (UTC) per user, from the records they synced. */
  monthlyBudgetUsd: budget.optional(),
  /** The one-line reason shown when this rule refuses. */
  reason: z.string().max(300).optional(),
});

export type EntitlementRule = z.infer<typeof ruleSchema>;

export const orgConfigSchema = z.strictObject({
  /** The URL laptops use (behind a load balancer, not the listener's own). Default: each request's own origin. */
  publicUrl: url.optional(),
  listen: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).prefault({}),
  /** PGlite's data directory when DATABASE_URL is not set (relative to the config file). */
  dataDir: z.string().default('org-data'),
  oidc: z.strictObject({
    issuer: url,
    clientId: z.string().min(1),
    scopes: z.array(z.string()).default(['openid', 'profile', 'email', 'offline_access']),
    /** The `aud` access tokens must carry. Set it when the IdP issues JWT access tokens for the gateway. */
    audience: z.union([z.string(), z.array(z.string())]).optional(),
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
    /** Claims naming the user, first present wins (the app shows the same). */
    userClaims: z.array(z.string()).min(1).default(['preferred_username', 'email', 'sub']),
    groupsClaim: z.string().default('groups'),
    /** Tokens that are not JWTs: asked to the IdP's userinfo endpoint, introspected (RFC 7662), or refused. */
    opaqueTokens: z.enum(['userinfo', 'introspection', 'reject']).default('userinfo'),
    /** The gateway's own confidential client for introspection; its secret is OIDC_INTROSPECTION_CLIENT_SECRET. */
    introspectionClientId: z.string().optional(),
  }),
  /** Accept Identity Center users' identity proofs at the usage endpoint. */
  identityCenter: z.strictObject({ region: z.string().default('us-east-1'), stsEndpoint: url.optional() }).optional(),
  aws: z.strictObject({
    region: z.string().min(1),
    /** The org's Bedrock role the broker assumes for each user. */
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
    sessionDurationSeconds: z.number().int().min(900).max(3600).default(3600),
    /** Gateway credentials without a session token (IAM user keys) are refused unless this is true. */
    allowLongLivedKeys: z.boolean().default(false),
    /** For tests and private endpoints: where STS is (else the SDK's resolution, AWS_ENDPOINT_URL_STS included). */
    stsEndpoint: url.optional(),
  }),
  models: z.record(z.string(), z.string()).optional(),
  defaultModel: z.string().optional(),
  entitlement: z.strictObject({
    /** First matching rule decides. No rule matches: refused with `notEntitledReason`. */
    rules: z.array(ruleSchema).default([{ allow: true, models: ['*'] }]),
    groupBudgetsUsd: z.record(z.string(), budget).default({}),
    notEntitledReason: z.string().max(300).default('you are not entitled to Amazon Bedrock: ask your administrator'),
  }).prefault({}),
  /** The admin page (/admin): OIDC sign-in (authorization code + PKCE), for members of these groups or these users. */
  admin: z.strictObject({
    groups: z.array(z.string()).default([]),
    users: z.array(z.string()).default([]),
    /** A client registered for the authorization code grant with redirect URI {publicUrl}/admin/callback; default oidc.clientId. */
    clientId: z.string().optional(),
    scopes: z.array(z.string()).default(['openid', 'profile', 'email']),
  }).optional(),
  limits: z.strictObject({
    /** Per caller, per replica. */
    requestsPerMinute: z.number().int().positive().default(600),
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  }).prefault({}),
});

export type OrgConfig = z.infer<typeof orgConfigSchema>;
export type OrgConfigInput = z.input<typeof orgConfigSchema>;

export function parseOrgConfig(input: unknown): OrgConfig {
  const parsed = orgConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`Invalid org gateway configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  if (config.oidc.opaqueTokens === 'introspection' && !config.oidc.introspectionClientId) {
    throw new Error('Invalid org gateway configuration:\n  oidc.introspectionClientId: required when opaqueTokens is "introspection"');
  }
  if (config.defaultModel && config.models && !(config.defaultModel in config.models) && !config.defaultModel.includes('.')) {
    throw new Error(`Invalid org gateway configuration:\n  defaultModel: "${config.defaultModel}" is neither an alias in models nor a model id`);
  }
  return config;
}

export function readOrgConfig(path: string): OrgConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the org gateway configuration ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseOrgConfig(raw);
}
