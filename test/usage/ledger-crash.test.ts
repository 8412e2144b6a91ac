import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { makeRecord } from './fixtures/records.ts';

const WRITER = fileURLToPath(new URL('./fixtures/ledger-writer.ts', import.meta.url));
const KILLS = Number(process.env.LEDGER_KILLS ?? 25);

/** Runs the writer until `killAfterMs` after it is ready, then SIGKILLs it; returns the ids it acknowledged. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<{ acked: string[]; ready: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dataDir, String(Math.floor(Math.random() * 10))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!ready && out.includes('ready\n')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own (${code}): ${err}`));
      const acked: string[] = [];
      // Only complete lines count: a line cut by the kill proves nothing.
      const lines = out.split('\n');
      lines.pop();
      for (const line of lines) if (line.startsWith('ack ')) acked.push(...line.slice(4).split(' '));
      resolve({ acked, ready });
    });
  });
}

test(`ledger survives ${KILLS} kill -9s mid-write: integrity ok, every acknowledged record present`, { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bb-ledger-crash-'));
  try {
    const acknowledged = new Set<string>();
    let readyRuns = 0;
    for (let i = 0; i < KILLS; i++) {
      const { acked, ready } = await runAndKill(dataDir, 20 + Math.floor(Math.random() * 300));
      if (ready) readyRuns++;
      for (const id of acked) acknowledged.add(id);
    }
    assert.equal(readyRuns, KILLS, 'the writer re-opened the ledger after every kill');
    assert.ok(acknowledged.size > KILLS * 10, `acknowledged only ${acknowledged.size}`);

    const ledger = new UsageLedger({ dataDir });
    try {
      assert.equal(ledger.integrityCheck(), 'ok');
      const missing = [...acknowledged].filter((id) => ledger.get(id) === null);
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged records are missing`);
      const total = ledger.count();
      assert.ok(total >= acknowledged.size);
      // Figures for the report.
      console.log(`# kills=${KILLS} acknowledged=${acknowledged.size} inLedger=${total} committedButUnreported=${total - acknowledged.size}`);
      // The ledger still works after all of it: a new record commits, reads back whole, sorts after
      // every id written before the kills (ids stay time-ordered), and its sync state can be updated.
      const fresh = makeRecord(1, {}, Date.now() + 1);
      ledger.record(fresh);
      await ledger.flush();
      assert.deepEqual(ledger.get(fresh.id), { ...fresh, syncState: 'pending' });
      assert.equal(ledger.count(), total + 1);
      const newest = ledger.database.prepare('SELECT id FROM records ORDER BY id DESC LIMIT 1').get() as { id: string };
      assert.equal(newest.id, fresh.id);
      assert.equal(ledger.markSynced([fresh.id]), 1);
      assert.equal(ledger.get(fresh.id)!.syncState, 'synced');
      assert.equal(ledger.integrityCheck(), 'ok');
    } finally {
      ledger.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
