// Bundle each service's src/main.ts into dist/<service>/main.js: the project's own TypeScript
// (services and libs/*) is compiled in, npm packages stay external and load from node_modules.
// Production runs plain JavaScript: no TypeScript loader thread, less memory, faster start.
import { build } from 'esbuild';

const services = ['ingest', 'mapper', 'scheduler', 'dispatcher'];
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sas/') ? undefined : { path: args.path, external: true }));
  },
};
await Promise.all(services.map((s) => build({
  entryPoints: [`services/${s}/src/main.ts`],
  outfile: `dist/${s}/main.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  plugins: [externalPackages],
  logLevel: 'warning',
})));
console.log(`built ${services.map((s) => `dist/${s}/main.js`).join(', ')}`);
