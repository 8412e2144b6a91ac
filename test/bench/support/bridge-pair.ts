import path from 'node:path';
import { startIpcChild, type BenchChild, type BridgeReady, type EmulatorReady } from './process.ts';

/**
 * The emulator and a bridge in front of it, each in a process of its own (support/emulator-child.ts,
 * support/bridge-child.ts, run from source), for the benches that compare one API with another.
 */
export async function startBridgePair(root: string, children: BenchChild<{ type: 'ready' }>[]): Promise<{ emulator: BenchChild<EmulatorReady>; bridge: BenchChild<BridgeReady> }> {
  const emulator = await startIpcChild<EmulatorReady>('emulator', path.join(root, 'test/bench/support/emulator-child.ts'));
  children.push(emulator);
  const { url, region, credentials } = emulator.ready;
  const bridge = await startIpcChild<BridgeReady>('bridge', path.join(root, 'test/bench/support/bridge-child.ts'), {
    env: { BENCH_EMULATOR_URL: url, AWS_REGION: region, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
  });
  children.push(bridge);
  return { emulator, bridge };
}
