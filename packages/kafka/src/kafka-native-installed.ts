import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Whether `@confluentinc/kafka-javascript` (the optional peer dependency of `client: 'native'`) can be
 * resolved from here, without loading it.
 */
export function nativeClientInstalled(): boolean {
  try {
    require.resolve('@confluentinc/kafka-javascript');
    return true;
  } catch {
    return false;
  }
}
