import { z } from 'zod';

const price = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative().nullable().optional(),
  cacheWrite: z.number().nonnegative().nullable().optional(),
});

/**
 * The `usage` block of the settings file (src/core/settings.ts keeps it open for us):
 * `{"usage": {"retentionDays": 90, "endpoint": "https://…/usage", "prices": {"<model or profile id>": {...}}}}`.
 */
export const usageSettingsSchema = z.looseObject({
  /** Synced records older than this many days are pruned; unsynced ones never are. */
  retentionDays: z.number().int().min(1).max(3650).default(90),
  /** The audit endpoint when no org gateway provides one (Identity Center mode). */
  endpoint: z.url().optional(),
  /** Periodic sync interval. */
  syncIntervalSeconds: z.number().int().min(10).default(300),
  /** `full` fsyncs every ledger commit (power-loss safe); `normal` is crash safe and cheaper. */
  durability: z.enum(['normal', 'full']).default('normal'),
  /** Price overrides, USD per million tokens, keyed by base model id, profile id or application-profile ARN. */
  prices: z
    .record(
      z.string().min(1),
      price.extend({ geoPremium: z.number().positive().optional(), regions: z.record(z.string(), price).optional() }),
    )
    .default({}),
});

export type UsageSettings = z.infer<typeof usageSettingsSchema>;
