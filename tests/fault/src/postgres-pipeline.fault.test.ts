import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { assertChaosInvariants, runPipelineChaos } from './pipeline-chaos.js';
import { postgresProducer } from './postgres-producer.js';

const url = process.env['SLUICE_TEST_PG_URL'];
if (!url)
  throw new Error('SLUICE_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');

/**
 * The PostgreSQL outbox under fire: concurrent writers (some rolled back, transactions committing out of
 * position order) while two `sluice relay --db postgres://...` processes and the consumer are SIGKILLed at
 * random points again and again.
 */
describe('PostgreSQL outbox: relays and consumer killed with SIGKILL mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-fault-'));
  const schema = `fault_${Math.random().toString(36).slice(2, 10)}`;
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('loses nothing, invents nothing, keeps per-key order and applies each event once', {
    timeout: 240_000,
  }, async (t) => {
    const seconds = 30;
    assertChaosInvariants(
      await runPipelineChaos(dir, seconds, await postgresProducer(url, schema)),
      seconds,
      t,
    );
  });
});
