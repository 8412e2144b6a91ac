import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { DEFAULT_EMULATOR_CREDENTIALS } from '../../src/emulator/index.ts';
const client = new BedrockRuntimeClient({ endpoint: 'http://127.0.0.1:45999', region: 'us-east-1', credentials: DEFAULT_EMULATOR_CREDENTIALS });
const stream = !!process.env.STREAM;
const input = { modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user' as const, content: [{ text: 'hello benchmark [[chunks:50]]' }] }] };
async function one() { if (stream) { const r = await client.send(new ConverseStreamCommand(input)); for await (const _ of r.stream!) {} } else await client.send(new ConverseCommand(input)); }
for (let i = 0; i < 300; i++) await one();
const t: number[] = [];
for (let i = 0; i < 1000; i++) { const s = performance.now(); await one(); t.push(performance.now() - s); }
t.sort((a, b) => a - b);
const start = performance.now(); let n = 0;
await Promise.all(Array.from({ length: 32 }, async () => { while (performance.now() - start < 3000) { await one(); n++; } }));
console.log(stream ? 'stream' : 'plain', 'median', t[500]!.toFixed(3), 'p99', t[990]!.toFixed(3), 'rps@32', (n / ((performance.now() - start) / 1000)).toFixed(0));
client.destroy();
