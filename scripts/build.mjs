// Bundle each service's src/main.ts into dist/<service>/main.js: the project's own TypeScript
// (services and libs/*) is compiled in, npm packages stay external and load from node_modules.
// Production runs plain JavaScript: no TypeScript loader thread, less memory, faster start.
// Each file is written to a temporary name and renamed, so a process starting a bundle while
// another test run rebuilds it never reads half a file.
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const services = ['ingest', 'mapper', 'scheduler', 'dispatcher', 'admin'];
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sas/') ? undefined : { path: args.path, external: true }));
  },
};
const entries = [...services.map((s) => [`services/${s}/src/main.ts`, `dist/${s}/main.js`]), ['services/admin/src/cli/bin.ts', 'dist/sas/main.js']];
await Promise.all(entries.map(async ([entry, outfile]) => {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    plugins: [externalPackages],
    logLevel: 'warning',
    write: false,
  });
  // The map first: a bundle never points at a missing or older map.
  const files = [...result.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
  for (const f of files) {
    await mkdir(dirname(f.path), { recursive: true });
    const tmp = `${f.path}.${process.pid}.tmp`;
    await writeFile(tmp, f.contents);
    await rename(tmp, f.path);
  }
}));
console.log(`built ${entries.map(([, o]) => o).join(', ')}`);
