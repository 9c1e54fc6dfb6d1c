import { after } from 'node:test';
import { runStoreConformance } from '@sluice/testing';
import { freshDatabaseName, newPool, testUrl } from './test-database.test-support.js';

let database: string;
const admin = newPool(2);

runStoreConformance('MySQL / MariaDB (mysql:// URL)', {
  async setup() {
    database = freshDatabaseName('store');
    await admin.query(`CREATE DATABASE \`${database}\``);
  },
  async teardown() {
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  },
  config: () => {
    const url = new URL(testUrl());
    url.pathname = `/${database}`;
    return url.toString();
  },
  password: decodeURIComponent(new URL(testUrl()).password),
  unreachable: 'mysql://sluice:s3cr3t@127.0.0.1:1/sluice',
});

after(() => admin.end());
