import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ConsumedRecord, TopicPartition } from '../records.js';
import { createGroupMember, type GroupMember } from './group-member.js';
import type { GroupClock, GroupMemberOptions, PartitionCursor } from './group-member-options.js';
import type { ClaimAnswer, CommitPosition, MembershipStore } from './membership-store.js';
import { createMemoryGroupState, MemoryMembershipStore } from './memory-membership-store.js';

/** A clock that moves only when told, with timers that fire only on `tick`. */
function fakeClock(): GroupClock & { tick(ms: number): void } {
  let now = 1_000_000;
  const timers = new Set<{ ms: number; at: number; fn: () => void }>();
  return {
    now: () => now,
    every(ms, fn) {
      const timer = { ms, at: now + ms, fn };
      timers.add(timer);
      return () => timers.delete(timer);
    },
    tick(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        now = due.at;
        due.at += due.ms;
        due.fn();
      }
      now = end;
    },
  };
}

/** Two topics' records: `orders` with 4 partitions, `users` with 2; each partition holds offsets 0..9. */
const counts = new Map([
  ['orders', 4],
  ['users', 2],
]);
const recordAt = (topic: string, partition: number, offset: number): ConsumedRecord => ({
  topic,
  partition,
  offset: String(offset),
  key: 'k',
  value: 'v',
  headers: {},
  timestamp: 0,
});
const fetchFrom = async (cursors: readonly PartitionCursor[], max: number) => {
  const out: ConsumedRecord[] = [];
  for (const c of cursors) {
    while (out.length < max && c.next < 10n) {
      out.push(recordAt(c.topic, c.partition, Number(c.next)));
      c.next++;
    }
  }
  return out;
};

function setup() {
  const clock = fakeClock();
  const state = createMemoryGroupState();
  const store: MembershipStore = new MemoryMembershipStore(state, 300);
  const member = (memberId: string, extra: Partial<GroupMemberOptions> = {}): GroupMember =>
    createGroupMember({
      store,
      memberId,
      topics: ['orders', 'users'],
      startFrom: 'earliest',
      heartbeatIntervalMs: 100,
      sessionTimeoutMs: 300,
      partitionCount: (topic) => counts.get(topic),
      latest: async (_topic, partitions) => partitions.map(() => 10n),
      fetch: fetchFrom,
      wait: async () => clock.tick(10),
      clock,
      ...extra,
    });
  return { clock, state, store, member };
}
const names = (tps: readonly TopicPartition[]) => tps.map((tp) => `${tp.topic}/${tp.partition}`);

describe('group member engine', () => {
  it('splits partitions round-robin among live members and takes them all back when one leaves', async () => {
    const { member } = setup();
    const a = member('a');
    const b = member('b');
    await a.start();
    await b.start();
    await a.refresh();
    assert.deepEqual(names(a.assignment()), ['orders/0', 'orders/2', 'users/0']);
    assert.deepEqual(names(b.assignment()), ['orders/1', 'orders/3', 'users/1']);
    await b.leave();
    await a.refresh();
    assert.equal(a.assignment().length, 6);
  });

  it('moves a silent member’s partitions once its heartbeat runs out, and not before', async () => {
    const { member, clock } = setup();
    const a = member('a');
    const b = member('b');
    await a.start();
    await b.start();
    b.stop(); // crashed: no more heartbeats
    clock.tick(299);
    await a.refresh();
    assert.equal(a.assignment().length, 3);
    assert.equal(a.nextChange, 1_000_000 + 300 + 1);
    clock.tick(2);
    await a.refresh();
    assert.equal(a.assignment().length, 6);
  });

  it('heartbeats on its timer while idle, so an idle member keeps its partitions', async () => {
    const { member, clock } = setup();
    const a = member('a');
    const b = member('b');
    await a.start();
    await b.start();
    for (let i = 0; i < 20; i++) {
      clock.tick(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await a.refresh();
    assert.equal(a.assignment().length, 3);
  });

  it('starts new partitions at the committed position, else earliest or latest', async () => {
    const { member, state } = setup();
    MemoryMembershipStore.reset(state, 'orders', 1, 7n);
    const early = member('a');
    await early.start();
    assert.equal(early.cursor('orders', 1)?.next, 7n);
    assert.equal(early.cursor('orders', 0)?.next, 0n);
    await early.leave();
    const late = member('b', { startFrom: 'latest' });
    await late.start();
    assert.equal(late.cursor('orders', 1)?.next, 7n);
    assert.equal(late.cursor('orders', 0)?.next, 10n);
  });

  it('fetches round-robin: each poll starts with the next partition', async () => {
    const { member } = setup();
    const a = member('a', { topics: ['users'] });
    await a.start();
    const first = await a.poll({ maxRecords: 1, maxWaitMs: 0 });
    const second = await a.poll({ maxRecords: 1, maxWaitMs: 0 });
    assert.deepEqual(
      [...first, ...second].map((r) => r.partition),
      [0, 1],
    );
  });

  it('coalesces commits, keeps them while the store is busy and never moves a position back', async () => {
    const { member, store, state } = setup();
    let busy = true;
    const writes: CommitPosition[][] = [];
    const commit = store.commit.bind(store);
    store.commit = async (positions) => {
      if (busy) return false;
      writes.push([...positions]);
      return commit(positions);
    };
    const a = member('a', { topics: ['users'] });
    await a.start();
    await a.commit([recordAt('users', 0, 3), recordAt('users', 0, 5), recordAt('users', 0, 4)]);
    assert.equal(state.committed.size, 0);
    busy = false;
    await a.commit([recordAt('users', 0, 2), recordAt('users', 1, 0)]);
    assert.deepEqual(writes, [
      [
        { topic: 'users', partition: 0, next: 6n },
        { topic: 'users', partition: 1, next: 1n },
      ],
    ]);
    await a.commit([recordAt('orders', 0, 9)]); // not owned: ignored
    assert.equal(writes.length, 1);
    await a.commit([recordAt('users', 0, 1)]); // behind what was written: ignored
    assert.equal(writes.length, 1);
  });

  it('writes pending commits when it leaves', async () => {
    const { member, store, state } = setup();
    const commit = store.commit.bind(store);
    let busy = true;
    store.commit = async (positions) => !busy && commit(positions);
    const a = member('a', { topics: ['users'] });
    await a.start();
    await a.commit([recordAt('users', 1, 4)]);
    assert.equal(state.committed.size, 0);
    busy = false;
    await a.leave();
    assert.equal(state.committed.get('users\u00001'), 5n);
    assert.equal(state.members.size, 0);
  });

  it('restarts from the committed positions when it finds it was considered dead', async () => {
    const { member, clock, state } = setup();
    let lost = 0;
    const a = member('a', { topics: ['users'], onLost: () => lost++ });
    await a.start();
    await a.poll({ maxRecords: 4, maxWaitMs: 0 });
    assert.equal(a.cursor('users', 0)?.next, 4n);
    MemoryMembershipStore.reset(state, 'users', 0, 2n);
    a.stop(); // silenced, e.g. a long pause; no timer heartbeat
    clock.tick(400);
    await a.refresh();
    assert.equal(lost, 1);
    assert.equal(a.cursor('users', 0)?.next, 2n);
  });

  it('reads only partitions whose claim it holds, and asks again soon for denied ones', async () => {
    const { member, store, clock } = setup();
    const denied = new Set(['users/1']);
    const claims: string[][] = [];
    store.claim = async (_id, wanted, release) => {
      claims.push([...names(wanted), ...names(release).map((n) => `-${n}`)]);
      return names(wanted).map((n): ClaimAnswer => (denied.has(n) ? 'denied' : 'held'));
    };
    const a = member('a', { topics: ['users'] });
    await a.start();
    assert.deepEqual(names(a.assignment()), ['users/0']);
    assert.equal(a.nextChange, clock.now() + 25);
    const records = await a.poll({ maxRecords: 100, maxWaitMs: 0 });
    assert.ok(records.every((r) => r.partition === 0));
    denied.clear();
    await a.refresh();
    assert.deepEqual(names(a.assignment()), ['users/0', 'users/1']);
    assert.ok(claims.length >= 2);
  });

  it('an ephemeral reader owns every partition, joins no group and commits nothing', async () => {
    const { member, state } = setup();
    const e = member('e', { ephemeral: true, startFrom: 'latest' });
    await e.start();
    assert.equal(e.assignment().length, 6);
    assert.equal(state.members.size, 0);
    assert.equal(e.cursor('orders', 0)?.next, 10n);
    await e.commit([recordAt('orders', 0, 1)]);
    assert.equal(state.committed.size, 0);
  });

  it('waits until records come, then returns them; returns [] at the deadline', async () => {
    const { member, clock } = setup();
    let waits = 0;
    const a = member('a', {
      topics: ['users'],
      startFrom: 'latest',
      wait: async () => {
        waits++;
        clock.tick(10);
      },
    });
    await a.start();
    assert.deepEqual(await a.poll({ maxRecords: 10, maxWaitMs: 50 }), []);
    assert.ok(waits >= 4);
    await a.seek('users', [0], async () => [8n]);
    const records = await a.poll({ maxRecords: 10, maxWaitMs: 50 });
    assert.deepEqual(
      records.map((r) => r.offset),
      ['8', '9'],
    );
  });

  it('keeps its assignment when a membership step fails, if asked; else the poll fails', async () => {
    const { member, store } = setup();
    const tolerant = member('a', { topics: ['users'], keepAssignmentOnFailure: true });
    const strict = member('b', { topics: ['orders'] });
    await tolerant.start();
    await strict.start();
    const members = store.members.bind(store);
    store.members = async () => {
      throw new Error('server electing a leader');
    };
    assert.equal((await tolerant.poll({ maxRecords: 100, maxWaitMs: 0 })).length, 20);
    assert.deepEqual(names(tolerant.assignment()), ['users/0', 'users/1']);
    await assert.rejects(strict.poll({ maxRecords: 1, maxWaitMs: 0 }), /electing a leader/);
    store.members = members;
  });

  it('heartbeats only on start and its timer with heartbeatOnPoll: false', async () => {
    const { member, store, clock } = setup();
    let beats = 0;
    const heartbeat = store.heartbeat.bind(store);
    store.heartbeat = (...args) => {
      beats++;
      return heartbeat(...args);
    };
    const a = member('a', { topics: ['users'], heartbeatOnPoll: false });
    await a.start();
    for (let i = 0; i < 5; i++) {
      clock.tick(60);
      await a.poll({ maxRecords: 1, maxWaitMs: 0 });
    }
    assert.equal(beats, 1 + 3); // start, then the timer at 100, 200 and 300 ms
  });
});
