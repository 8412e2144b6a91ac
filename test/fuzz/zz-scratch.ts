import { startFuzzBridge } from './server-fuzz.ts';
const fuzz = await startFuzzBridge();
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const deepArr = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
for (const n of [1000, 10000, 100000]) {
  for (const [name, body] of [
    ['tool params', `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep(n)}}}]}`],
    ['schema', `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${deep(n)}}}}`],
    ['tool args', `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":${JSON.stringify(deep(n))}}}]},{"role":"tool","tool_call_id":"c","content":"x"}]}`],
    ['tool content', `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":${JSON.stringify(deepArr(n))}}]}`],
    ['embed input', `{"model":"amazon.titan-embed-text-v2:0","input":${deepArr(n)}}`],
    ['root', deepArr(n)],
  ]) {
    const t0 = Date.now();
    const r = await fetch(`${fuzz.bridge.baseURL}/${name === 'embed input' ? 'embeddings' : 'chat/completions'}`, { method: 'POST', headers: fuzz.bridge.headers(), body });
    const text = await r.text();
    console.log(n, name, r.status, Date.now() - t0, 'ms', text.slice(0, 160));
  }
}
await fuzz.close();
