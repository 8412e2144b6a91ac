/**
 * Starts Portkey's gateway in this process (its start-server reads --port and --headless from argv),
 * and exits normally on SIGTERM so that `node --cpu-prof` can write its profile.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

process.on('SIGTERM', () => process.exit(0));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
await import(pathToFileURL(path.join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js')).href);
