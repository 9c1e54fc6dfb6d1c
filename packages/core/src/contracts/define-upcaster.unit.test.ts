import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { handle } from '../consumer/handler.js';
import { upcastRoutes } from '../consumer/upcast-routes.js';
import { ContractViolationError, InvalidOptionError } from '../errors.js';
import { prepareVersions } from '../outbox/prepare-versions.js';
import type { Logger } from '../util/logger.js';
import { defineEvent, type EventContract } from './define-event.js';
import { defineKey } from './define-key.js';
import { defineTopic } from './define-topic.js';
import { defineUpcaster } from './define-upcaster.js';
import { isDeprecatedAt, warnDeprecatedAppend } from './deprecation-notice.js';

const ItemId = defineKey('itemId', z.string().min(1), { description: 'an item' });
const ShelfId = defineKey('shelfId', z.string().min(1), { description: 'a shelf' });
const items = defineTopic({ name: 'items', kind: 'event', partitions: 1 });

const item = (version: number, extra: Partial<Parameters<typeof defineEvent>[0]> = {}) =>
  defineEvent({
    type: 'item.stocked',
    version,
    key: ItemId,
    topic: items,
    description: `an item was stocked (v${version})`,
    schema: z.object({ itemId: z.string(), count: z.int() }),
    ...extra,
  });
const V1 = item(1);
const V2 = item(2);
const V3 = item(3);
const same = <T>(data: T): T => data;

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`);
    assert.equal(error.code, 'SLUICE_INVALID_OPTION');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('defineUpcaster', () => {
  it('declares a step from one version to the next, named for logs and dead letters', () => {
    const u = defineUpcaster(V1, V2, same);
    assert.equal(u.name, 'item.stocked v1->v2');
    assert.equal(u.from, V1);
    assert.equal(u.to, V2);
    assert.ok(Object.isFrozen(u));
  });

  it('refuses a version that is not the next one (skipping, same or older)', () => {
    refusal(
      () => defineUpcaster(V1, V3, same),
      /option `to` must be version 2 of item\.stocked .*got v3; declare one upcaster per step/,
    );
    refusal(() => defineUpcaster(V2, V2, same), /must be version 3 of item\.stocked/);
    refusal(() => defineUpcaster(V2, V1, same), /must be version 3 of item\.stocked .*got v1/);
  });

  it('refuses two event types', () => {
    const other = defineEvent({
      type: 'item.sold',
      version: 2,
      key: ItemId,
      topic: items,
      description: 'sold',
      schema: z.object({ itemId: z.string(), count: z.int() }),
    });
    refusal(
      () => defineUpcaster(V1, other, same as never),
      /must be a version of item\.stocked, got item\.sold v2/,
    );
  });

  it('refuses moving the event to another key', () => {
    const moved = item(2, { key: ShelfId, schema: z.object({ shelfId: z.string(), count: z.int() }) });
    refusal(
      () => defineUpcaster(V1, moved, () => ({ shelfId: 's', count: 1 })),
      /cannot move an event to another key/,
    );
  });

  it('refuses what is not a contract or not a function', () => {
    refusal(
      () => defineUpcaster({} as EventContract, V2, same as never),
      /option `from` must be an event contract/,
    );
    refusal(() => defineUpcaster(V1, null as unknown as EventContract, same as never), /option `to` must be/);
    refusal(() => defineUpcaster(V1, V2, 'x' as never), /option `fn` must be a function/);
  });
});

describe('upcaster routes of a consumer', () => {
  const h3 = handle(V3, () => undefined);
  it('chains v1->v2->v3 to the v3 handler; a handler of the wire version wins', () => {
    const u12 = defineUpcaster(V1, V2, same);
    const u23 = defineUpcaster(V2, V3, same);
    const routes = upcastRoutes([h3], [u12, u23]);
    assert.deepEqual(routes.get(V1.dataschema)?.upcasters, [u12, u23]);
    assert.deepEqual(routes.get(V2.dataschema)?.upcasters, [u23]);
    const h2 = handle(V2, () => undefined);
    const direct = upcastRoutes([h2, h3], [u12, u23]);
    assert.equal(direct.get(V1.dataschema)?.handler, h2, 'v1 goes to the nearest handled version');
    assert.deepEqual(direct.get(V2.dataschema)?.upcasters, [], 'v2 is handled directly');
  });

  it('refuses two upcasters from one version, and a chain reaching no handler', () => {
    refusal(
      () => upcastRoutes([h3], [defineUpcaster(V2, V3, same), defineUpcaster(V2, V3, same)]),
      /has two upcasters from item\.stocked v2/,
    );
    refusal(
      () => upcastRoutes([handle(V1, () => undefined)], [defineUpcaster(V1, V2, same)]),
      /whose chain ends at item\.stocked v2 without reaching a version this consumer handles/,
    );
    refusal(() => upcastRoutes([h3], [{} as never]), /must hold upcasters from defineUpcaster/);
  });
});

describe('prepareVersions (appendVersions)', () => {
  it('ties the versions of one fact together, oldest first, each with its own id', () => {
    const events = prepareVersions([
      { contract: V2, data: { itemId: 'i', count: 2 } },
      { contract: V1, data: { itemId: 'i', count: 1 } },
    ]);
    assert.deepEqual(
      events.map((e) => e.dataschema),
      [V1.dataschema, V2.dataschema],
    );
    assert.notEqual(events[0]!.id, events[1]!.id);
    const fact = { id: events[0]!.id, schemas: `${V1.dataschema} ${V2.dataschema}` };
    assert.deepEqual(events[0]!.fact, fact);
    assert.deepEqual(events[1]!.fact, fact);
  });

  it('refuses one version, two types, a version twice, or keys that differ; validates each version', () => {
    const d = { itemId: 'i', count: 1 };
    refusal(() => prepareVersions([{ contract: V1, data: d }]), /needs two or more versions/);
    const sold = defineEvent({
      type: 'item.sold',
      version: 2,
      key: ItemId,
      topic: items,
      description: 's',
      schema: z.object({ itemId: z.string() }),
    });
    refusal(
      () =>
        prepareVersions([
          { contract: V1, data: d },
          { contract: sold, data: d },
        ]),
      /mixes item\.stocked and item\.sold/,
    );
    refusal(
      () =>
        prepareVersions([
          { contract: V1, data: d },
          { contract: V1, data: d },
        ]),
      /has item\.stocked v1 twice/,
    );
    refusal(
      () =>
        prepareVersions([
          { contract: V1, data: d },
          { contract: V2, data: { itemId: 'j', count: 1 } },
        ]),
      /gives item\.stocked v2 the key j but v1 the key i/,
    );
    assert.throws(
      () =>
        prepareVersions([
          { contract: V1, data: d },
          { contract: V2, data: { itemId: 'i' } as never },
        ]),
      ContractViolationError,
    );
  });
});

describe('deprecation at append', () => {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} };

  it('is deprecated from its since date (UTC) on', () => {
    const old = item(4, { deprecated: { since: '2026-03-01' } });
    assert.equal(isDeprecatedAt(old, Date.parse('2026-02-28T23:59:59Z')), false);
    assert.equal(isDeprecatedAt(old, '2026-03-01T00:00:00Z'), true);
    assert.equal(isDeprecatedAt(V1, Date.now()), false);
  });

  it('warns once per type and version per process, only on or after the date', () => {
    const future = item(5, { deprecated: { since: '2999-01-01' } });
    const past = item(6, { deprecated: { since: '2001-01-01', replacedBy: 7, reason: 'obsolete' } });
    warnDeprecatedAppend(future, logger);
    assert.deepEqual(warnings, []);
    for (let i = 0; i < 3; i++) warnDeprecatedAppend(past, logger);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /appending item\.stocked v6, deprecated since 2001-01-01: publish v7 instead/);
  });
});
