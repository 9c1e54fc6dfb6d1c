import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExit, lines, sluice } from './cli-runner.test-support.js';

// `sluice contracts lock` and `check` on the built CLI, with contracts modules written to a temp folder (plain
// .mjs importing @sluice/core's build and zod by absolute URL, as the child runs on plain Node).
const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-contracts-')));
after(() => rmSync(root, { recursive: true, force: true }));
const CORE = new URL('../../core/dist/index.js', import.meta.url).href;
const ZOD = import.meta.resolve('zod');

/** A contracts module with `order.placed` versions given as zod shapes (source text) and options. */
function contractsModule(name: string, versions: { v: number; shape: string; extra?: string }[]): string {
  const file = join(root, `${name}.mjs`);
  writeFileSync(
    file,
    [
      `import { defineEvent, defineKey, defineTopic } from '${CORE}';`,
      `import { z } from '${ZOD}';`,
      `const OrderId = defineKey('orderId', z.string(), { description: 'An order' });`,
      `const topic = defineTopic({ name: 'orders', kind: 'event' });`,
      ...versions.map(
        ({ v, shape, extra }) =>
          `export const OrderPlacedV${v} = defineEvent({ type: 'order.placed', version: ${v}, key: OrderId, topic, description: 'placed', schema: z.object({ orderId: OrderId.schema, ${shape} }) ${extra ? `, ${extra}` : ''} });`,
      ),
    ].join('\n'),
  );
  return file;
}

const cmd = (sub: string, contracts: string, lock: string, ...more: string[]) =>
  sluice(['contracts', sub, '--contracts', contracts, '--lock', join(root, lock), ...more], { cwd: root });

describe('sluice contracts lock / check', () => {
  const v1 = contractsModule('v1', [{ v: 1, shape: 'total: z.number()' }]);

  it('a lock then a check passes; the lock is pretty, sorted JSON ending in a newline', async () => {
    assertExit(await cmd('lock', v1, 'a.json', '--service', 'urn:service:orders'), 0, 'lock');
    const text = readFileSync(join(root, 'a.json'), 'utf8');
    assert.ok(text.endsWith('}\n'));
    const lock = JSON.parse(text) as { service: string; contracts: { type: string; version: number }[] };
    assert.equal(lock.service, 'urn:service:orders');
    assert.deepEqual(
      lock.contracts.map((c) => [c.type, c.version]),
      [['order.placed', 1]],
    );
    const check = await cmd('check', v1, 'a.json');
    assertExit(check, 0, 'check');
    assert.match(check.stdout, /1 contract versions match/);
    assertExit(await cmd('lock', v1, 'a.json'), 0, 'lock again, unchanged');
    assert.equal(readFileSync(join(root, 'a.json'), 'utf8'), text);
  });

  it('an edited locked version fails check naming the field, and lock refuses it without --force', async () => {
    assertExit(await cmd('lock', v1, 'b.json'), 0, 'lock');
    const edited = contractsModule('edited', [{ v: 1, shape: 'total: z.number(), currency: z.string()' }]);
    const check = await cmd('check', edited, 'b.json');
    assertExit(check, 1, 'check of an edited version');
    const out = lines(check.stdout);
    assert.ok(
      out.includes(
        'contract order.placed v1: #/properties/currency: the edited schema requires a property that the locked schema (a closed object) never has (REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL); breaks consumers built on the edit reading events already written; version 1 is locked: revert it, or add version 2',
      ),
      check.stdout,
    );
    const before = readFileSync(join(root, 'b.json'), 'utf8');
    const refused = await cmd('lock', edited, 'b.json');
    assertExit(refused, 1, 'lock of an edited version');
    assert.match(refused.stdout, /refusing to write .*b\.json: 2 changes to locked versions/);
    assert.equal(readFileSync(join(root, 'b.json'), 'utf8'), before);
    assertExit(await cmd('lock', edited, 'b.json', '--force'), 0, 'lock --force');
    assertExit(await cmd('check', edited, 'b.json'), 0, 'check after lock --force');
  });

  it('a breaking v2 under BACKWARD fails; the same v2 under NONE passes', async () => {
    assertExit(await cmd('lock', v1, 'c.json'), 0, 'lock');
    const breaking = contractsModule('breaking', [
      { v: 1, shape: 'total: z.number()' },
      { v: 2, shape: 'total: z.string()' },
    ]);
    const check = await cmd('check', breaking, 'c.json');
    assertExit(check, 1, 'check of a breaking v2');
    assert.deepEqual(lines(check.stdout).slice(0, 2), [
      'contract order.placed v2: not locked: run `sluice contracts lock` and commit contracts.lock.json',
      "contract order.placed v2: #/properties/total: the type in the new schema differs from the type in the old schema (TYPE_CHANGED, v2 vs v1, BACKWARD); breaks consumers of the new version reading old events; make the change compatible, declare compatibility: 'NONE' with an upcaster for consumers, or use a new event type",
    ]);
    assertExit(await cmd('lock', breaking, 'c.json'), 1, 'lock of a breaking v2');

    const none = contractsModule('none', [
      { v: 1, shape: 'total: z.number()' },
      { v: 2, shape: 'total: z.string()', extra: "compatibility: 'NONE'" },
    ]);
    assertExit(await cmd('lock', none, 'c.json'), 0, 'lock of v2 under NONE');
    assertExit(await cmd('check', none, 'c.json'), 0, 'check of v2 under NONE');
  });

  it('a deprecated version still produced is a warning (exit 0); check without a lock file fails', async () => {
    const dep = contractsModule('dep', [
      { v: 1, shape: 'total: z.number()', extra: "deprecated: { since: '2026-11-01', replacedBy: 2 }" },
      { v: 2, shape: 'total: z.number(), note: z.string().optional()' },
    ]);
    assertExit(await cmd('lock', dep, 'd.json'), 0, 'lock');
    const check = await cmd('check', dep, 'd.json');
    assertExit(check, 0, 'check with a deprecated version');
    assert.match(
      check.stdout,
      /^warning: contract order.placed v1: v1 deprecated since 2026-11-01, still produced: move producers to v2$/m,
    );
    const missing = await cmd('check', dep, 'none.json');
    assertExit(missing, 1, 'check without a lock');
    assert.match(missing.stdout, /none\.json does not exist: run `sluice contracts lock`/);
  });
});
