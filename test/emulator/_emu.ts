import { startEmulator } from '../../src/emulator/index.ts';
const emu = await startEmulator({ port: 45999 });
console.log('ready');
process.on('SIGINT', async () => { await emu.close(); process.exit(0); });
