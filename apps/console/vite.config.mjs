// The console's build: `npm run build` runs it after SWC, writing dist/console, which the
// hook-registry serves at /console (apps/hook-registry/src/console). Relative asset paths,
// so the page works under /console/ behind any host or Ingress path.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    // No source maps in what is served; the source is in the repository.
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
