import { z } from 'zod';
import { defineEvent } from '../contracts/define-event.js';
import { defineKey } from '../contracts/define-key.js';
import { defineTopic } from '../contracts/define-topic.js';
import { sleep } from '../util/sleep.js';

const AccountId = defineKey('accountId', z.string().min(1), { description: 'an account' });
/** The topic of the tracing tests. */
export const accounts = defineTopic({ name: 'accounts', kind: 'event', partitions: 2 });
/** The event of the tracing tests. */
export const Deposited = defineEvent({
  type: 'account.deposited',
  version: 1,
  key: AccountId,
  topic: accounts,
  description: 'money in',
  schema: z.object({ accountId: z.string().min(1), amount: z.int().positive() }),
});

/** Waits until `check` holds, failing after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A second topic, for batches of several topics. */
export const ledger = defineTopic({ name: 'ledger', kind: 'event', partitions: 1 });
/** An event of {@link ledger}. */
export const Booked = defineEvent({
  type: 'ledger.booked',
  version: 1,
  key: AccountId,
  topic: ledger,
  description: 'a booking',
  schema: z.object({ accountId: z.string().min(1) }),
});
