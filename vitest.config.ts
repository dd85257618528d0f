import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// The package's own imports (examples: 'ai-gateway-emulator/testing/vitest') resolve to the TypeScript sources, not dist/.
const SOURCE_CONDITION = 'ai-gateway-emulator-source';

export default defineConfig({
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.case.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
