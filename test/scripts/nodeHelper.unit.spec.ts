import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * scripts/node.sh (sourced by start.sh, test.sh, run.sh and .ci/run) in a copy of the repo's
 * scripts/ dir, with a fake `node` and `npm` first on PATH: which node it settles on, and what
 * it says when it cannot get Node 24.
 */
describe('scripts/node.sh', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  const run = (fake: { node: string; npmFails: boolean }) => {
    const root = mkdtempSync(join(tmpdir(), 'node-helper-'));
    dirs.push(root);
    mkdirSync(join(root, 'scripts'));
    cpSync(join(import.meta.dirname, '../../scripts/node.sh'), join(root, 'scripts/node.sh'));
    const bin = join(root, 'fakebin');
    mkdirSync(bin);
    const npmMarker = join(root, 'npm-was-called');
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    script('node', `echo ${fake.node}`);
    script('npm', `touch '${npmMarker}'\n${fake.npmFails ? 'echo "npm error network offline" >&2; exit 1' : 'exit 0'}`);
    const r = spawnSync('bash', ['-c', 'set -euo pipefail; source scripts/node.sh; echo "sourced: $(command -v node)"'], {
      cwd: root, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: root },
    });
    const cache = join(root, '.stack/node');
    return {
      status: r.status, stdout: r.stdout, stderrLines: r.stderr.split('\n').filter((l) => l !== ''),
      npmCalled: existsSync(npmMarker), cacheEntries: existsSync(cache) ? readdirSync(cache) : [], bin,
    };
  };

  it('stops with one line naming Node 24 when the machine has Node 18 and npm cannot fetch it', () => {
    const r = run({ node: 'v18.0.0', npmFails: true });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('sourced');
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^Node\.js 24 LTS is required \(found v18\.0\.0 and could not fetch node-\w+-\w+@24\.\d+\.\d+ from the npm registry\)/);
    expect(r.npmCalled).toBe(true);
    expect(r.cacheEntries).toEqual([]); // the temporary install dir is gone
  });

  it('goes on with one warning on Node 22 when npm cannot fetch Node 24', () => {
    const r = run({ node: 'v22.22.0', npmFails: true });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`sourced: ${r.bin}/node`);
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^warning: .*machine's Node v22\.22\.0/);
  });

  it('uses a machine Node 24 as it is: no install attempted, nothing printed', () => {
    const r = run({ node: 'v24.1.0', npmFails: false });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`sourced: ${r.bin}/node`);
    expect(r.stderrLines).toEqual([]);
    expect(r.npmCalled).toBe(false);
    expect(existsSync(join(r.bin, '../.stack'))).toBe(false);
  });
});
