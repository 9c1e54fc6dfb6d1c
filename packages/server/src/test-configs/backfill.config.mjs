// A service config for the backfill metrics test: the legacy catalogue captured from PostgreSQL, with backfills
// (the snapshotter's request table, in the default `sluice` schema) interleaved with live changes.
import { defineConfig, env, withBackfill } from '@sluice/core';
import { catalogueTopic, courseListingTopic, mapCourseChange } from '@sluice/example-legacy-courses';
import { createPostgresChangeSource, createPostgresSnapshotter } from '@sluice/postgres/cdc';
import pg from 'pg';

export default defineConfig({
  vars: {
    url: env('CATALOGUE_DATABASE_URL'),
    slot: env('CATALOGUE_SLOT'),
    publication: env('CATALOGUE_PUBLICATION'),
    table: env('CATALOGUE_TABLE'),
  },
  transports: { bus: env('SLUICE_BUS') },
  pipelines: {
    'catalogue-changes': {
      kind: 'changes',
      transport: 'bus',
      topics: [catalogueTopic, courseListingTopic],
      changes: (vars) => {
        // The snapshotter's pool is the config's: idle connections let the process exit.
        const pool = new pg.Pool({ connectionString: vars.url, max: 2, allowExitOnIdle: true });
        pool.on('error', () => undefined);
        const source = createPostgresChangeSource({
          connectionString: vars.url,
          slot: vars.slot,
          publication: vars.publication,
          tables: [vars.table],
        });
        return {
          source: withBackfill(source, {
            snapshotter: createPostgresSnapshotter(pool, { chunkSize: 10 }),
            pollIntervalMs: 100,
          }),
          map: mapCourseChange,
          eventSource: 'urn:service:catalogue',
        };
      },
    },
  },
});
