import { performance } from 'node:perf_hooks';
import type { Call } from './clients.ts';

export interface LoadResult {
  /** Per successful request, milliseconds from send to the end of the response. */
  latencies: number[];
  /** Per successful streamed request, milliseconds from send to the first content chunk. */
  firstChunk: number[];
  /** Wall time of the whole batch, milliseconds. */
  wallMs: number;
  completed: number;
  errors: number;
  firstError?: string;
}

/** Runs `count` calls with `concurrency` in flight at all times (closed loop). */
export async function runLoad(call: Call, count: number, concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const firstChunk: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const start = performance.now();
      try {
        const first = await call();
        const end = performance.now();
        latencies.push(end - start);
        if (first !== undefined) firstChunk.push(first - start);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallMs = performance.now() - started;
  return { latencies, firstChunk, wallMs, completed: latencies.length, errors, ...(firstError ? { firstError } : {}) };
}
