import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const newestMtime = (dir: string): number => {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.sql')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
};

/**
 * True when an esbuild bundle in dist/ (scripts/build.mjs; the test global setup builds them)
 * is newer than every source file it may contain: the project's libs and services and the
 * migrations. A test never runs a stale bundle; it falls back to the TypeScript through tsx.
 */
export const bundleIsFresh = (bundle: string): boolean => {
  if (!existsSync(bundle)) return false;
  const roots = ['libs', 'services'].flatMap((top) => readdirSync(join(repoRoot, top)).map((p) => join(repoRoot, top, p, 'src')));
  const newest = Math.max(...roots.map(newestMtime), newestMtime(join(repoRoot, 'libs', 'runtime', 'migrations')));
  return statSync(bundle).mtimeMs >= newest;
};
