/**
 * The Bedrock emulator in a process of its own, so its event loop is not shared with the load
 * generator or a gateway. Started by gateway.bench.ts with an IPC channel.
 */
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator } from '../../../src/emulator/index.ts';

const emulator = await startEmulator({ port: 0, recorderLimit: 100 });
process.send!({
  type: 'ready',
  url: emulator.url,
  region: emulator.region,
  credentials: { ...DEFAULT_EMULATOR_CREDENTIALS },
});

const stop = async (): Promise<void> => {
  await emulator.close();
  process.exit(0);
};
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
