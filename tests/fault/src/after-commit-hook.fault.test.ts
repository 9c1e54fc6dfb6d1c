import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRelay, decodeEnvelope } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { firstMessage, forkFixture } from './child.js';

/**
 * The failure Sluice exists for: a process that commits and then sends (an ORM after-save hook) dies between
 * the two, and the event is gone for good. The same crash with the outbox loses nothing: the relay ships the
 * committed row later.
 */
describe('process killed between commit and send', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-after-commit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function crashAfterCommit(
    mode: 'hook' | 'outbox',
  ): Promise<{ appPath: string; busPath: string; id: string }> {
    const appPath = join(dir, `${mode}-app.db`);
    const busPath = join(dir, `${mode}-bus.db`);
    const child = forkFixture('after-commit-process', [mode, appPath, busPath]);
    const { committed } = await firstMessage<{ committed: string }>(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    return { appPath, busPath, id: committed };
  }

  it('after-commit hook: the business row is committed but the event is lost forever', async () => {
    const { appPath, busPath, id } = await crashAfterCommit('hook');
    const app = openDatabase(appPath);
    assert.equal(
      app.prepare('SELECT count(*) FROM enrollments WHERE id = ?').pluck().get(id),
      1,
      'the write committed',
    );
    app.close();
    const bus = createLogTransport({ path: busPath });
    await sleep(200);
    const records = await bus.read(enrollmentsTopic.name, { to: 'earliest' }, 10);
    await bus.close();
    assert.equal(
      records.length,
      0,
      'nothing reached the bus, and nothing ever will: no record of the event survives',
    );
  });

  it('outbox: the same crash loses nothing; the relay delivers the committed event', async () => {
    const { appPath, busPath, id } = await crashAfterCommit('outbox');
    const app = openDatabase(appPath);
    assert.equal(app.prepare('SELECT count(*) FROM enrollments WHERE id = ?').pluck().get(id), 1);
    const outbox = createSqliteOutbox(app, { source: 'urn:service:enrollments' });
    assert.equal((await outbox.stats()).pending, 1, 'the event waits in the outbox');
    const bus = createLogTransport({ path: busPath });
    const relay = createRelay({ outbox, transport: bus, topics: [enrollmentsTopic] }).start();
    const deadline = Date.now() + 5000;
    while ((await outbox.stats()).pending > 0 && Date.now() < deadline) await sleep(10);
    await relay.stop();
    const records = await bus.read(enrollmentsTopic.name, { to: 'earliest' }, 10);
    await bus.close();
    app.close();
    assert.equal(records.length, 1);
    const envelope = decodeEnvelope(records[0]!.value);
    assert.equal(envelope.type, 'enrollment.created');
    assert.equal(envelope.subject, id);
    assert.equal(envelope.sluiceseq, 1);
  });
});
