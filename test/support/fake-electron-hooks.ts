/**
 * `node --import ./test/support/fake-electron-hooks.ts dist/main/index.js`: resolves `electron` to
 * ./fake-electron.ts for that process (the real package would try to download its binary and throw).
 * Everything else, electron-store included, loads as shipped.
 */
import { registerHooks } from 'node:module';

const FAKE = new URL('./fake-electron.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'electron') return { url: FAKE, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
