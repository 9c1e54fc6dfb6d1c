// Used by scripts/services.d/kafka.sh: exits 0 once the broker at argv[2] answers a metadata request, through
// @platformatic/kafka (the client @sluice/kafka uses, a dependency of the repository's install).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/kafka/package.json', import.meta.url));
const { Admin } = await import(require.resolve('@platformatic/kafka'));

const timer = setTimeout(() => {
  console.error('no metadata answer within 10 s');
  process.exit(1);
}, 10_000);
const admin = new Admin({
  clientId: 'sluice-services-check',
  bootstrapBrokers: [process.argv[2]],
  retries: 0,
});
try {
  await admin.listTopics({});
  await admin.close();
  clearTimeout(timer);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
