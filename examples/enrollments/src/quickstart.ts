// The README's quick start, kept runnable (and tested by quickstart.int.test.ts). Run it in an empty folder.
import { createConsumer, createRelay, defineEvent, defineKey, defineTopic } from '@sluice/core';
import { createLogTransport, createSqliteInbox, createSqliteOutbox, openDatabase } from '@sluice/sqlite';
import { z } from 'zod';

// 1. A contract: the public, versioned shape of an event, keyed by a shared key type.
const OrderId = defineKey('orderId', z.uuid(), { description: 'An order, issued by the orders service' });
const orders = defineTopic({ name: 'orders', kind: 'event', partitions: 8 });
const OrderPlaced = defineEvent({
  type: 'order.placed',
  version: 1,
  key: OrderId,
  topic: orders,
  description: 'A customer placed an order.',
  schema: z.object({ orderId: z.uuid(), total: z.number().positive() }),
});

// 2. Producer: the event is written in the same transaction as the business row; a rollback drops both.
const db = openDatabase('app.db');
const outbox = createSqliteOutbox(db, { source: 'urn:service:orders', migrate: true });
db.exec('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total REAL)');
db.transaction(() => {
  const orderId = crypto.randomUUID();
  db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run(orderId, 42);
  outbox.append(db, OrderPlaced, { orderId, total: 42 });
})();

// 3. Relay: ships committed events to the bus (the embedded log, one SQLite file), in order per key.
const bus = createLogTransport({ path: 'bus.db' });
const relay = createRelay({ outbox, transport: bus, topics: [orders] }).start();

// 4. Consumer: the handler's writes and the inbox record commit together, so each event applies once.
const billing = openDatabase('billing.db');
billing.exec('CREATE TABLE IF NOT EXISTS invoices (order_id TEXT PRIMARY KEY, total REAL)');
const consumer = createConsumer({
  transport: bus,
  group: 'billing',
  inbox: createSqliteInbox(billing, { migrate: true }),
  handlers: (on) => [
    on(OrderPlaced, (event, { tx }) => {
      tx.prepare('INSERT INTO invoices (order_id, total) VALUES (?, ?)').run(event.key, event.data.total);
      console.log(`invoiced ${event.key}: ${event.data.total}`);
    }),
  ],
});

process.once('SIGINT', () => void Promise.all([relay.stop(), consumer.stop()]).then(() => bus.close()));
