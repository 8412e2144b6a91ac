import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAuditCollector, type RunningAuditCollector } from '../../src/emulator/audit-collector.ts';
import { auditClientProperty, auditEndpointProperty } from './audit-fuzz.ts';
import { checkProperty, watchUnhandled } from './support.ts';

const TOKEN = 'tok-collector-secret-abcdef';

describe('fuzz: the audit endpoint contract', () => {
  let collector: RunningAuditCollector;
  const unhandled = watchUnhandled();
  before(async () => {
    collector = await startAuditCollector({ bearerVerifier: (token) => (token === TOKEN ? 'alice@example.com' : null) });
  });
  after(async () => {
    await collector.close();
    unhandled.stop();
  });

  it('an endpoint answers mutated batches within the contract: every id accepted or rejected, errors as objects, no 5xx', async () => {
    await checkProperty(auditEndpointProperty({ port: collector.port, path: collector.path, token: TOKEN }), 300);
    assert.ok(collector.stats().stored > 0, 'some batches were valid and stored');
  });

  it('found: a batch whose client object nests 10 000 levels deep is a 400, not a crash in JSON.stringify', async () => {
    const client = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const response = await fetch(collector.usageUrl, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: `{"client":${client},"records":[]}` });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /nested more than 32 levels/);
  });

  it('the client settles on any answer, keeps secrets out of its errors, marks synced only what was accepted', async () => {
    const client = auditClientProperty();
    try {
      await checkProperty(client.property, 300);
      // The answers drove every outcome: records delivered, set aside as rejected, and left to retry.
      const outcomes = client.outcomes();
      assert.ok(outcomes.synced > 0 && outcomes.rejected > 0 && outcomes.pending > 0, JSON.stringify(outcomes));
    } finally {
      client.close();
    }
    assert.deepEqual(unhandled.errors(), []);
  });
});
