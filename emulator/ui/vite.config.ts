import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard bundle served at /_emulator/ui/ (emulator/control-plane/dashboard.ts). Relative asset paths, one
// JS and one CSS file, no source maps: it ships in the npm package.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    assetsInlineLimit: 0,
  },
});
