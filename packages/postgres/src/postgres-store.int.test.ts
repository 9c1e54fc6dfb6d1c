import { after } from 'node:test';
import { runStoreConformance } from '@sluice/testing';
import { freshSchemaName, newPool, testUrl } from './test-database.test-support.js';

let schema: string;
const admin = newPool(2);

runStoreConformance('PostgreSQL (postgres:// URL)', {
  async setup() {
    schema = freshSchemaName('store');
  },
  async teardown() {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  },
  config: () => ({ kind: 'postgres', url: testUrl(), schema }),
  password: decodeURIComponent(new URL(testUrl()).password),
  unreachable: 'postgres://sluice:s3cr3t@127.0.0.1:1/sluice',
});

after(() => admin.end());
