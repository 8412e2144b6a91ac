/**
 * `node --import ./test/support/fake-keyring-hooks.ts ...`: resolves `@napi-rs/keyring` to the file-backed
 * stand-in ./fake-keyring.ts for that process. Nothing else changes; the CLI runs as shipped.
 */
import { registerHooks } from 'node:module';

const FAKE = new URL('./fake-keyring.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === '@napi-rs/keyring') return { url: FAKE, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
