// @sluice/core/testing: in-memory fakes for unit tests of the relay and consumer runtimes and of tests that
// need an outbox or inbox beside a real transport. Never for claims about a database's durability.
export { MemoryInbox, MemoryOutbox } from './memory-stores.js';
