// Bundle each service's src/main.ts into dist/<service>/main.js: the project's own TypeScript
// (services and libs/*) is compiled in, npm packages stay external and load from node_modules.
// Production runs plain JavaScript: no TypeScript loader thread, less memory, faster start.
import { build } from 'esbuild';

const services = ['ingest', 'mapper', 'scheduler', 'dispatcher', 'admin'];
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sas/') ? undefined : { path: args.path, external: true }));
  },
};
const entries = [...services.map((s) => [`services/${s}/src/main.ts`, `dist/${s}/main.js`]), ['services/admin/src/cli/bin.ts', 'dist/sas/main.js']];
await Promise.all(entries.map(([entry, outfile]) => build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  plugins: [externalPackages],
  logLevel: 'warning',
})));
console.log(`built ${entries.map(([, o]) => o).join(', ')}`);
