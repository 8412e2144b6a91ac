/** The part of a Node response (HTTP/1.1 or HTTP/2) a writer waits on. */
export interface DrainableResponse {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves when a response whose last write() reported a full buffer can take more (`drain`), or has
 * closed. Call it only right after such a write: 'drain' then cannot have fired yet.
 */
export function drained(out: DrainableResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
