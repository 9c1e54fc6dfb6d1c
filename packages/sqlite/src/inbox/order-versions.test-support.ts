/**
 * Three versions of `order.placed` for the versions-in-flight tests: v1 carries an amount in cents, v2 a total
 * with its currency, v3 the sales channel too. v1 is deprecated (since 2020, replaced by v2). Upcasters v1->v2
 * (cents in EUR; a negative amount makes it throw) and v2->v3 (channel `web`), and a broken v1->v2 that produces
 * data v2 refuses.
 */
import { defineEvent, defineKey, defineTopic, defineUpcaster } from '@sluice/core';
import { z } from 'zod';

export const OrderId = defineKey('orderId', z.string().min(1), { description: 'an order' });
export const orders = defineTopic({ name: 'orders', kind: 'event', partitions: 2 });

export const OrderPlacedV1 = defineEvent({
  type: 'order.placed',
  version: 1,
  key: OrderId,
  topic: orders,
  description: 'an order was placed (amount in cents, EUR implied)',
  schema: z.object({ orderId: z.string().min(1), amount: z.int() }),
  deprecated: { since: '2020-01-01', reason: 'the currency was implied', replacedBy: 2 },
});

const total = z.object({ cents: z.int().nonnegative(), currency: z.string().length(3) });

export const OrderPlacedV2 = defineEvent({
  type: 'order.placed',
  version: 2,
  key: OrderId,
  topic: orders,
  description: 'an order was placed, with its total and currency',
  schema: z.object({ orderId: z.string().min(1), total }),
});

export const OrderPlacedV3 = defineEvent({
  type: 'order.placed',
  version: 3,
  key: OrderId,
  topic: orders,
  description: 'an order was placed, with its total and sales channel',
  schema: z.object({ orderId: z.string().min(1), total, channel: z.enum(['web', 'shop']) }),
});

export const v1ToV2 = defineUpcaster(OrderPlacedV1, OrderPlacedV2, (v1) => {
  if (v1.amount < 0) throw new Error(`negative amount ${v1.amount}`);
  return { orderId: v1.orderId, total: { cents: v1.amount, currency: 'EUR' } };
});

export const v2ToV3 = defineUpcaster(OrderPlacedV2, OrderPlacedV3, (v2) => ({
  ...v2,
  channel: 'web' as const,
}));

/** Produces a v2 total the contract refuses (a two-letter currency) for amounts of 13 cents. */
export const v1ToV2Broken = defineUpcaster(OrderPlacedV1, OrderPlacedV2, (v1) => ({
  orderId: v1.orderId,
  total: { cents: v1.amount, currency: v1.amount === 13 ? 'EU' : 'EUR' },
}));
