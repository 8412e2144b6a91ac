/**
 * The wire-level Bedrock emulator with a real runtime client, for tests that talk to the emulator
 * directly: `const env = useEmulatorWithClient();` then `env.client.send(...)`, `env.emulator.recorder`.
 */
import { after, before } from 'node:test';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { DEFAULT_EMULATOR_CREDENTIALS, startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';

/** A runtime client for an emulator, signed with the emulator's default credentials. */
export function runtimeClientFor(emulator: { url: string }, config: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ endpoint: emulator.url, region: 'us-east-1', credentials: DEFAULT_EMULATOR_CREDENTIALS, ...config });
}

export interface EmulatorWithClient {
  readonly emulator: RunningEmulator;
  /** From runtimeClientFor: the SDK's default (HTTP/2) handler. */
  readonly client: BedrockRuntimeClient;
}

/** Starts an emulator and a runtime client before the file's tests and stops both after them. Call at module level. */
export function useEmulatorWithClient(): EmulatorWithClient {
  let started: { emulator: RunningEmulator; client: BedrockRuntimeClient } | null = null;
  const current = () => {
    if (!started) throw new Error('useEmulatorWithClient: the before hook has not run yet');
    return started;
  };
  before(async () => {
    const emulator = await startEmulator();
    started = { emulator, client: runtimeClientFor(emulator) };
  });
  after(async () => {
    started?.client.destroy();
    await started?.emulator.close();
  });
  return {
    get emulator() {
      return current().emulator;
    },
    get client() {
      return current().client;
    },
  };
}
