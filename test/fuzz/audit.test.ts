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
    await checkProperty(auditEndpointProperty({ port: collector.port, path: collector.path, token: TOKEN }), 150);
    assert.ok(collector.stats().stored > 0, 'some batches were valid and stored');
  });

  it('the client settles on any answer, keeps secrets out of its errors, marks synced only what was accepted', async () => {
    await checkProperty(auditClientProperty(), 150);
    assert.deepEqual(unhandled.errors(), []);
  });
});
