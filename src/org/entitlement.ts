import type { EntitlementRule, OrgConfig } from './config.ts';

/**
 * Who may have Bedrock credentials, for which models, within which budget: the first rule of the
 * configuration that matches the caller decides. Budgets are checked against stored usage by the
 * caller (./credentials-route.ts); this module only decides from identity.
 */
export interface EntitlementSubject {
  user: string;
  groups: string[];
  claims: Record<string, unknown>;
}

export type Entitlement =
  | { allowed: true; models: string[]; monthlyBudgetUsd: number | null; groupBudgets: Map<string, number> }
  | { allowed: false; reason: string };

function claimMatches(value: unknown, expected: string | string[] | boolean): boolean {
  const wanted = Array.isArray(expected) ? expected : [expected];
  const actual = Array.isArray(value) ? value : [value];
  return actual.some((item) => wanted.some((w) => w === item));
}

function ruleMatches(rule: EntitlementRule, subject: EntitlementSubject): boolean {
  if (rule.users && !rule.users.includes(subject.user)) return false;
  if (rule.groups && !rule.groups.some((group) => subject.groups.includes(group))) return false;
  for (const [name, expected] of Object.entries(rule.claims ?? {})) {
    if (!claimMatches(subject.claims[name], expected)) return false;
  }
  return true;
}

/** Aliases replaced by the model ids they name. */
export function resolveModels(patterns: string[], aliases: Record<string, string> = {}): string[] {
  return [...new Set(patterns.map((pattern) => (Object.hasOwn(aliases, pattern) ? aliases[pattern]! : pattern)))];
}

export function decideEntitlement(config: OrgConfig, subject: EntitlementSubject): Entitlement {
  const rule = config.entitlement.rules.find((candidate) => ruleMatches(candidate, subject));
  if (!rule) return { allowed: false, reason: config.entitlement.notEntitledReason };
  if (!rule.allow) return { allowed: false, reason: rule.reason ?? config.entitlement.notEntitledReason };
  const groupBudgets = new Map(
    subject.groups.filter((group) => Object.hasOwn(config.entitlement.groupBudgetsUsd, group)).map((group) => [group, config.entitlement.groupBudgetsUsd[group]!]),
  );
  return { allowed: true, models: resolveModels(rule.models, config.models), monthlyBudgetUsd: rule.monthlyBudgetUsd ?? null, groupBudgets };
}

const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** The refusal once spend reaches a budget, or null while under every budget. */
export function budgetRefusal(
  entitlement: Extract<Entitlement, { allowed: true }>,
  spent: { user: number; groups: Map<string, number> },
): string | null {
  if (entitlement.monthlyBudgetUsd !== null && spent.user >= entitlement.monthlyBudgetUsd) {
    return `budget reached: ${usd(spent.user)} of ${usd(entitlement.monthlyBudgetUsd)} this month`;
  }
  for (const [group, limit] of entitlement.groupBudgets) {
    const groupSpent = spent.groups.get(group) ?? 0;
    if (groupSpent >= limit) return `budget reached for group ${group}: ${usd(groupSpent)} of ${usd(limit)} this month`;
  }
  return null;
}
