import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadNative, NATIVE_PACKAGE } from './kafka-client.js';

it("client 'native' without its optional peer dependency fails naming the package to install", () => {
  assert.throws(
    () =>
      loadNative(() => {
        throw Object.assign(new Error(`Cannot find module '${NATIVE_PACKAGE}'`), {
          code: 'MODULE_NOT_FOUND',
        });
      }),
    (error: Error & { code?: string }) =>
      error.code === 'SLUICE_ADAPTER_MISSING' &&
      error.message.includes(`npm install ${NATIVE_PACKAGE}`) &&
      error.message.includes("client 'javascript'"),
  );
});
