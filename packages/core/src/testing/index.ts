// @sluice/core/testing: in-memory fakes for unit tests of the relay and consumer runtimes and of tests that
// need an outbox, inbox or transport without a server. Never for claims about a database's or broker's
// durability: those are tested against the real servers.

export { createMemoryTransport } from '../transport/memory/memory-transport.js';
export { MemoryChangeLog } from './memory-change-source.js';
export { MemoryPolledTable } from './memory-polled-table.js';
export { type MemoryRow, MemoryTable } from './memory-snapshotter.js';
export { MemoryInbox, MemoryOutbox } from './memory-stores.js';
