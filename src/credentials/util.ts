import { setTimeout as delay } from 'node:timers/promises';

/** Sleeps; rejects with the signal's reason when aborted. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : {});
}

/**
 * The user behind an STS ARN: the session name of an assumed role
 * (`arn:aws:sts::123:assumed-role/Role/alice@example.com` -> `alice@example.com`),
 * else the last path part (`arn:aws:iam::123:user/bob` -> `bob`).
 */
export function sessionNameFromArn(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  const parts = resource.split('/');
  if (parts[0] === 'assumed-role' && parts.length >= 3) return parts.slice(2).join('/');
  return parts[parts.length - 1] ?? arn;
}
