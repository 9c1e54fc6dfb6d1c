// A config whose store URL comes from a variable the test leaves unset.
import { defineConfig, env } from '@sluice/core';

export default defineConfig({
  stores: { app: env('SLUICE_TEST_UNSET_DATABASE_URL') },
  transports: { bus: 'bus.db' },
  pipelines: { relay: { kind: 'relay', store: 'app', transport: 'bus', topics: [] } },
});
