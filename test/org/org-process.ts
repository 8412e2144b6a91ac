import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrgConfigInput } from '../../src/org/config.ts';
import { MAIN } from '../support/serve-process.ts';

/** A `bedrock-bridge org serve` process on a free loopback port. */
export interface OrgServeProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it logged so far (JSON lines on stdout, and stderr). */
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<number | null>;
}

export function writeOrgConfig(dir: string, name: string, config: OrgConfigInput): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export function startOrgServe(configPath: string, env: NodeJS.ProcessEnv, readyWithinMs = 60_000): Promise<OrgServeProcess> {
  const child = spawn(process.execPath, [MAIN, 'org', 'serve', '--config', configPath, '--port', '0'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stderr.on('data', collect);
  child.stdout.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`org serve did not start in time:\n${output}`)), readyWithinMs);
    const onData = () => {
      const url = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        url,
        child,
        output: () => output,
        stop: async () => {
          child.kill('SIGTERM');
          return exit;
        },
        kill: async () => {
          child.kill('SIGKILL');
          return exit;
        },
      });
    };
    child.stdout.on('data', onData);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`org serve exited early with ${code}:\n${output}`));
    });
  });
}
