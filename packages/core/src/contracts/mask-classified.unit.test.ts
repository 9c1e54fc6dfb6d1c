import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ContractViolationError } from '../errors.js';
import { checkEvent, defineEvent } from './define-event.js';
import { defineKey } from './define-key.js';
import { defineTopic } from './define-topic.js';
import { maskClassified, personalMask, SECRET_MASK } from './mask-classified.js';

const OrderId = defineKey('orderId', z.string().min(1), { description: 'An order' });

const OrderPlaced = defineEvent({
  type: 'order.placed',
  version: 1,
  key: OrderId,
  schema: z.object({
    orderId: z.string(),
    email: z.email(),
    cardToken: z.string(),
    shipping: z.object({ street: z.string(), city: z.string() }),
    attendees: z.array(z.object({ name: z.string(), email: z.string() })),
    note: z.string().nullable(),
  }),
  topic: defineTopic({ name: 'orders', kind: 'event' }),
  description: 'An order was placed',
  classification: {
    email: 'personal',
    cardToken: 'secret',
    'shipping.street': 'personal',
    'attendees.email': 'personal',
    'attendees.name': 'personal',
    note: 'secret',
  },
});

const data = {
  orderId: 'o-1',
  email: 'ada@example.org',
  cardToken: 'tok_live_123',
  shipping: { street: '1 Analytical Way', city: 'London' },
  attendees: [
    { name: 'Ada', email: 'ada@example.org' },
    { name: 'Charles', email: 'charles@example.org' },
  ],
  note: null,
};

describe('maskClassified', () => {
  it('masks personal fields (nested, in arrays of objects) with a stable hash prefix, and secrets with ***', () => {
    const masked = maskClassified(OrderPlaced, data);
    assert.match(masked.email, /^\*\*\*#[0-9a-f]{4}$/);
    assert.equal(masked.cardToken, SECRET_MASK);
    assert.equal(masked.shipping.street, personalMask('1 Analytical Way'));
    assert.equal(masked.shipping.city, 'London', 'unclassified fields stay');
    assert.equal(masked.orderId, 'o-1');
    assert.equal(masked.attendees.length, 2);
    assert.equal(masked.attendees[0]?.email, masked.email, 'equal values are recognisable');
    assert.notEqual(masked.attendees[1]?.email, masked.email);
    assert.equal(masked.attendees[1]?.name, personalMask('Charles'));
    assert.equal(masked.note, null, 'a null classified field stays null');
    const text = JSON.stringify(masked);
    for (const value of ['ada@', 'charles@', 'tok_live', 'Analytical', 'Charles"']) {
      assert.ok(!text.includes(value), `${value} leaked: ${text}`);
    }
  });

  it('never changes the data it is given', () => {
    const before = JSON.stringify(data);
    maskClassified(OrderPlaced, data);
    assert.equal(JSON.stringify(data), before);
  });

  it('shows personal fields when asked, never secrets', () => {
    const shown = maskClassified(OrderPlaced, data, { show: 'personal' });
    assert.equal(shown.email, 'ada@example.org');
    assert.equal(shown.shipping.street, '1 Analytical Way');
    assert.deepEqual(shown.attendees, data.attendees);
    assert.equal(shown.cardToken, SECRET_MASK);
  });

  it('masks a classified object or array whole, and leaves missing fields and non-objects alone', () => {
    const contract = {
      classification: { address: 'personal', tags: 'secret', 'x.y.z': 'personal' },
    } as const;
    const masked = maskClassified(contract, { address: { street: 's' }, tags: ['a'], x: { y: 3 } });
    assert.equal(masked.address, personalMask({ street: 's' }) as never);
    assert.equal(masked.tags, SECRET_MASK as never);
    assert.deepEqual(masked.x, { y: 3 });
    assert.equal(maskClassified(contract, 'text'), 'text');
    assert.equal(maskClassified(contract, null), null);
  });

  it('returns the same object when nothing is classified', () => {
    const contract = { classification: {} };
    assert.equal(maskClassified(contract, data), data);
  });
});

describe('classification of the key field', () => {
  it('is refused: the key is shown everywhere (subject, partition key, logs)', () => {
    assert.throws(
      () =>
        defineEvent({
          type: 'order.noted',
          version: 1,
          key: OrderId,
          schema: z.object({ orderId: z.string() }),
          topic: defineTopic({ name: 'orders', kind: 'event' }),
          description: 'x',
          classification: { orderId: 'personal' },
        }),
      /classification\.orderId.*cannot classify the key field/,
    );
  });
});

describe('contract violations of classified fields', () => {
  it('name the field and its type but not the value received', () => {
    const bad = { ...data, email: 'not-an-email-ada', cardToken: 42 };
    let error: unknown;
    try {
      checkEvent(OrderPlaced, bad, 'consume');
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ContractViolationError);
    assert.match(error.message, /at email: .*received string \(personal, not shown\)/);
    assert.match(error.message, /at cardToken: .*received number \(secret, not shown\)/);
    assert.ok(!error.message.includes('not-an-email-ada'), error.message);
    assert.ok(!error.message.includes('42'), error.message);
  });

  it('still show the value of an unclassified field', () => {
    assert.throws(
      () => checkEvent(OrderPlaced, { ...data, shipping: { street: 's', city: 7 } }, 'append'),
      /at shipping\.city: .*received number 7/,
    );
  });
});
