import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const stackScript = join(import.meta.dirname, '../../scripts/stack.sh');

/**
 * `scripts/stack.sh java`: the Java that Apicurio 3.x (built for Java 21+) runs on, found the
 * way `up` finds it, with fake `java` binaries that answer only the version question. Install
 * mode is off, so nothing is fetched: a machine without a 21+ gets one line saying what to do.
 */
describe('scripts/stack.sh java', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  const fakeJava = (dir: string, major: number) => {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'java');
    writeFileSync(path, `#!/bin/sh\necho "    java.specification.version = ${major}" >&2\necho "openjdk version \\"${major}.0.1\\"" >&2\n`);
    chmodSync(path, 0o755);
    return path;
  };

  const run = (o: { pathJava: number; jvms: number[]; apicurioJava?: string }) => {
    const root = mkdtempSync(join(tmpdir(), 'stack-java-'));
    dirs.push(root);
    fakeJava(join(root, 'bin'), o.pathJava);
    const jvms = o.jvms.map((m) => fakeJava(join(root, 'jvm', `jdk-${m}`, 'bin'), m));
    mkdirSync(join(root, 'jvm'), { recursive: true });
    const r = spawnSync('bash', [stackScript, 'java'], {
      encoding: 'utf8',
      env: {
        PATH: `${join(root, 'bin')}:/usr/bin:/bin`, HOME: root, STACK_DIR: join(root, 'stack'), JVM_DIR: join(root, 'jvm'),
        CI: '', STACK_INSTALL: '', ...(o.apicurioJava ? { APICURIO_JAVA: o.apicurioJava } : {}),
      },
    });
    return { status: r.status, stdout: r.stdout.trim(), stderrLines: r.stderr.split('\n').filter((l) => l !== ''), jvms, root };
  };

  it('stops with one line naming Java 21 when the machine has only Java 17', () => {
    const r = run({ pathJava: 17, jvms: [17] });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^stack\.sh: Apicurio Registry \S+ needs Java 21\+ and none was found .*STACK_INSTALL=1/);
  });

  it.each([
    { case: 'the newest 21+ under the JVM dir when PATH has 17', pathJava: 17, jvms: [17, 21, 25], pick: 2 },
    { case: 'a JVM-dir 21 over a 17', pathJava: 17, jvms: [21, 17], pick: 0 },
  ])('picks $case', ({ pathJava, jvms, pick }) => {
    const r = run({ pathJava, jvms });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(r.jvms[pick]);
  });

  it('takes the java on PATH when it is 21+', () => {
    const r = run({ pathJava: 25, jvms: [21] });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(join(r.root, 'bin', 'java'));
  });

  it('takes APICURIO_JAVA as given', () => {
    const r = run({ pathJava: 17, jvms: [25], apicurioJava: '/opt/my-java/bin/java' });
    expect(r.stdout).toBe('/opt/my-java/bin/java');
  });
});
