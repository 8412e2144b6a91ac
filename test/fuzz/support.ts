/** The suite's fixed seed: a failure reproduces with the same inputs on every machine. */
export const FUZZ_SEED = 0x5eed_2026;

import fc from 'fast-check';

/**
 * Runs a property with the suite's seed and throws a short report on failure (fast-check's own
 * report prints whole inputs, megabytes for the deep-nesting ones).
 */
export async function checkProperty(property: fc.IAsyncProperty<any> | fc.IProperty<any>, numRuns: number, seed = FUZZ_SEED): Promise<number> {
  const details = await fc.check(property, { seed, numRuns, endOnFailure: true });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const report = `${cause}\n${fc.defaultReportMessage(details) ?? 'failed'}`;
    throw new Error(report.length > 4000 ? `${report.slice(0, 2000)}\n[…]\n${report.slice(-2000)}` : report);
  }
  return details.numRuns;
}

/** Collects unhandled rejections and uncaught exceptions while a fuzz runs. */
export function watchUnhandled(): { errors(): string[]; stop(): void } {
  const seen: string[] = [];
  const onRejection = (reason: unknown) => seen.push(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  const onException = (error: Error) => seen.push(`uncaught exception: ${error.stack}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors: () => [...seen],
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
