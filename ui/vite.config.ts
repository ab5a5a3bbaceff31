// Builds the browser client into dist/ui/: one index.html (served for `/` and `/r/<id>`) plus hashed
// files under /assets/. Nothing inline, nothing from another origin: the service's CSP forbids both.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const uiRoot = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/ui', import.meta.url));

export default defineConfig(({ command }) => ({
  root: uiRoot,
  base: '/',
  publicDir: false,
  // JSX through Preact's automatic runtime, compiled by Vite's own transformer (no framework plugin).
  // Production JSX whenever we build: Vite picks the development runtime unless NODE_ENV says otherwise,
  // and that embeds every component's absolute source path (the build machine's folders) in the bundle.
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact', development: command === 'serve' },
  },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    // Every asset as a file: data: URLs for scripts or styles would need CSP exceptions.
    assetsInlineLimit: 0,
    // Current browsers all support modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    sourcemap: false,
    reportCompressedSize: true,
    // Pages: the meeting client (index.html), the setup wizard (setup.html at /setup) and the outside check
    // (check.html at /check).
    rollupOptions: {
      input: { index: fileURLToPath(new URL('./index.html', import.meta.url)), setup: fileURLToPath(new URL('./setup.html', import.meta.url)), check: fileURLToPath(new URL('./check.html', import.meta.url)) },
    },
  },
  server: {
    // `vite` in dev mode (not the usual workflow) proxies the service.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
}));
