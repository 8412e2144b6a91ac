/**
 * What Claude on Bedrock (InvokeModel, Anthropic's native body) accepts, per model family: the
 * tables the sanitiser (anthropic-sanitiser.ts) reads. Bedrock's set changes over time and by model;
 * update the rows here, nothing else needs to change. Sources: docs/compatibility.md#messages.
 */

/** The top-level fields InvokeModel takes for Claude; others are refused as "extraneous key". */
export const BEDROCK_NATIVE_FIELDS: ReadonlySet<string> = new Set([
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'output_config',
  'context_management',
]);

export interface BetaRules {
  /** Betas Bedrock is known to take for the family: always forwarded. */
  accepted: ReadonlySet<string>;
  /** Betas Bedrock is known to refuse ("invalid beta flag"): never forwarded. */
  refused: readonly RegExp[];
  /** First-party beta names Bedrock knows under another name. */
  renamed: Readonly<Record<string, string>>;
}

/** Betas of Anthropic-hosted features (files, MCP connector, skills, server tools, OAuth, fast mode). */
const HOSTED_ONLY: readonly RegExp[] = [
  /^oauth-/,
  /^files-api-/,
  /^mcp-/,
  /^skills-/,
  /^web-search-/,
  /^web-fetch-/,
  /^code-execution-/,
  /^fast-mode-/,
  /^prompt-caching-scope-/,
  /^redact-thinking-/,
  /^output-128k-/,
  /^structured-outputs-/,
  /^extended-cache-ttl-/,
];

const CLAUDE_4_BETAS: BetaRules = {
  accepted: new Set([
    'claude-code-20250219',
    'interleaved-thinking-2025-05-14',
    'context-management-2025-06-27',
    'context-1m-2025-08-07',
    'effort-2025-11-24',
    'fine-grained-tool-streaming-2025-05-14',
    'token-efficient-tools-2025-02-19',
    'tool-search-tool-2025-10-19',
    'computer-use-2025-01-24',
    'computer-use-2025-11-24',
    'compact-2026-01-12',
  ]),
  refused: HOSTED_ONLY,
  renamed: { 'advanced-tool-use-2025-11-20': 'tool-search-tool-2025-10-19' },
};

const CLAUDE_3_BETAS: BetaRules = {
  accepted: new Set(['claude-code-20250219', 'token-efficient-tools-2025-02-19', 'computer-use-2025-01-24', 'computer-use-2024-10-22']),
  refused: [...HOSTED_ONLY, /^interleaved-thinking-/, /^context-/, /^effort-/, /^tool-search-tool-/, /^compact-/],
  renamed: {},
};

const CLAUDE_3 = /^anthropic\.claude-(?:3|instant|v2)/;

export function betaRulesFor(baseModelId: string): BetaRules {
  return CLAUDE_3.test(baseModelId) ? CLAUDE_3_BETAS : CLAUDE_4_BETAS;
}

/** Tool types Anthropic runs on its side (Bedrock has none of them): removed from `tools`. */
export const SERVER_TOOL_TYPE = /^(?:web_search|web_fetch|code_execution|mcp_toolset)(?:_|$)/;

/** The only `context_management` edit Bedrock takes, and the beta it needs. */
export const BEDROCK_CONTEXT_EDIT = 'compact_20260112';
export const BEDROCK_CONTEXT_EDIT_BETA = 'compact-2026-01-12';

/** The beta of `role: "system"` messages inside `messages`; left out with them where the model lacks them. */
export const MID_CONVERSATION_SYSTEM_BETA = /^mid-conversation-system-/;

/** The beta under which Bedrock takes `defer_loading` on tools. */
export const TOOL_SEARCH_BETA = 'tool-search-tool-2025-10-19';

/** Keys of `cache_control` Bedrock takes (`scope` is refused). */
export const CACHE_CONTROL_KEYS: ReadonlySet<string> = new Set(['type', 'ttl']);

/** Bedrock's rule for request metadata values; Claude Code's `metadata.user_id` (a JSON string) breaks it. */
export const METADATA_VALUE_PATTERN = /^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$/;

/**
 * `thinking: {type: "adaptive"}` on a model that only has budgeted thinking: the budget for each
 * `output_config.effort` (Claude Code sends no effort to such models; `high` is its default).
 */
export const THINKING_BUDGET_BY_EFFORT: Readonly<Record<string, number>> = { low: 4_000, medium: 12_000, high: 31_999, xhigh: 31_999, max: 31_999 };
export const MIN_THINKING_BUDGET = 1024;
