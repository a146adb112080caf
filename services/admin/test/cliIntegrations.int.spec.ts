import { randomBytes } from 'node:crypto';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommanderError, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  createIntegration, createLogger, createPool, createSecretBox, loadDestinations, loadWebhookAuth, migrate, parseKey,
} from '@sas/runtime';
import { TEST_SECRETS_KEY, randomWebhookSecret, runSas, stackEndpoints, uniqueId } from '@sas/testkit';
import { buildAdminApp } from '../src/api/app.js';
import { buildProgram, runCli } from '../src/cli/main.js';

const token = `adm_${randomBytes(16).toString('hex')}`;
const box = createSecretBox(parseKey(TEST_SECRETS_KEY));
const log = createLogger('admin-test', 'silent');
let pool: pg.Pool;
let app: FastifyInstance;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const { databaseUrl, stripeApiBase } = stackEndpoints();
  await migrate(databaseUrl, log);
  pool = createPool(databaseUrl, 4);
  app = await buildAdminApp({
    pool, box, log,
    config: { ADMIN_TOKEN: token, STRIPE_API_BASE: stripeApiBase, PUBLIC_BASE_URL: 'http://127.0.0.1:3000', KAFKA_TOPIC_PREFIX: uniqueId('adm') },
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  env = { SAS_API_URL: address, SAS_ADMIN_TOKEN: token, USER: 'bob' };
});
afterAll(async () => {
  await app?.close();
  await pool?.end();
});

describe('sas --help', () => {
  /** Every command of the four groups, as its argv path: ['destinations', 'add'], ['audit'], ... */
  const commandPaths = (): string[][] => {
    const { program } = buildProgram();
    const walk = (c: Command, at: string[]): string[][] => [at, ...c.commands.flatMap((s) => walk(s, [...at, s.name()]))];
    return program.commands.filter((c) => ['integrations', 'destinations', 'secrets', 'audit'].includes(c.name())).flatMap((c) => walk(c, [c.name()]));
  };

  it('every integrations, destinations, secrets and audit command has --help that exits 0 and names the command', async () => {
    const paths = commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining([
      'integrations create', 'integrations list', 'integrations get', 'integrations update', 'integrations disable', 'integrations enable',
      'destinations add', 'destinations list', 'destinations get', 'destinations update', 'destinations disable', 'destinations enable',
      'secrets add', 'secrets list', 'secrets reseal', 'audit',
    ]));
    for (const p of paths) {
      const { program } = buildProgram();
      let out = '';
      const capture = (c: Command) => { c.configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { out += s; } }); c.commands.forEach(capture); };
      capture(program);
      const exit = await program.parseAsync([...p, '--help'], { from: 'user' }).then(() => 'returned', (e: unknown) => e);
      expect(exit, p.join(' ')).toBeInstanceOf(CommanderError);
      expect((exit as CommanderError).exitCode, p.join(' ')).toBe(0);
      expect(out, p.join(' ')).toContain(`Usage: sas ${p.join(' ')}`);
      expect(out, p.join(' ')).toMatch(/\n\n\S.{10,}/); // a description
    }
  });
});

/**
 * `sas <args>` in this process: the same argv parsing and commands as the binary, without a
 * node + tsx start per command (seconds each on the shared machine). Environment variables
 * are set for the call; stdout and stderr are captured. The binary itself is run below too.
 */
const sas = async (args: string[], extraEnv: Record<string, string | undefined> = {}) => {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries({ ...env, ...extraEnv })) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const { write: outWrite } = process.stdout;
  const { write: errWrite } = process.stderr;
  process.stdout.write = ((c: string | Uint8Array) => { stdout += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { stderr += String(c); return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { code, stdout, stderr, json: <T = Record<string, any>>() => JSON.parse(stdout) as T };
};

describe('sas integrations, destinations, secrets, audit (against the admin API)', () => {
  const id = uniqueId('cli-int-');
  const destId = `${id}-impact`;
  const stripeKey = `rk_test_${randomBytes(12).toString('hex')}`;
  const authToken = `tok_${randomBytes(12).toString('hex')}`;
  const webhookSecret = randomWebhookSecret();
  const secretValues = [token, stripeKey, authToken, webhookSecret];
  const printed: string[] = [];
  const run = async (args: string[], extraEnv: Record<string, string | undefined> = {}) => {
    const r = await sas(args, extraEnv);
    printed.push(r.stdout, r.stderr);
    return r;
  };

  it('create → destinations add → update → disable → enable → audit, secrets never printed', async () => {
    const created = await run(['integrations', 'create', id, '--name', 'Acme CLI', '--refund-hold', '10m', '--account', 'acct_1',
      '--stripe-key', '@env:ACME_STRIPE_KEY', '--json'], { ACME_STRIPE_KEY: stripeKey });
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toMatchObject({ id, name: 'Acme CLI', refundHoldSeconds: 600, accounts: ['acct_1'], hasStripeKey: true, status: 'active' });

    const dir = await mkdtemp(join(tmpdir(), 'sas-cli-'));
    await writeFile(join(dir, 'impact.json'), JSON.stringify({ accountSid: 'IRsid', campaignId: 1000, eventTypeId: '222' }));
    const added = await run(['destinations', 'add', id, destId, '--type', 'impact', '--settings-file', join(dir, 'impact.json'),
      '--setting', 'recurringEventTypeId=0333', '--credential', 'authToken=@env:IMPACT_TOKEN', '--json'], { IMPACT_TOKEN: authToken });
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ id: destId, type: 'impact', credentials: ['authToken'],
      settings: { accountSid: 'IRsid', campaignId: 1000, eventTypeId: '222', recurringEventTypeId: '0333' } });
    const missing = await run(['destinations', 'add', id, `${destId}-2`, '--type', 'impact', '--setting', 'accountSid=IR', '--setting', 'eventTypeId=1',
      '--setting', 'recurringEventTypeId=2', '--credential', 'authToken=@env:IMPACT_TOKEN'], { IMPACT_TOKEN: authToken });
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: `sas: POST /v1/integrations/${id}/destinations: 400 settings.campaignId is required for impact\n` });
    const duplicate = await run(['integrations', 'create', id, '--name', 'again']);
    expect({ code: duplicate.code, stderr: duplicate.stderr }).toEqual({ code: 1, stderr: `sas: POST /v1/integrations: 409 integration ${id} exists already\n` });

    const newToken = `tok_${randomBytes(12).toString('hex')}`;
    secretValues.push(newToken);
    const updated = await run(['integrations', 'update', id, '--charge-tracking', 'all', '--sale-trigger', 'invoice.payment_succeeded', '--json']);
    expect(updated.json()).toMatchObject({ id, chargeTracking: 'all', saleTrigger: 'invoice.payment_succeeded', refundHoldSeconds: 600 });
    const destUpdated = await run(['destinations', 'update', id, destId, '--setting', 'eventTypeId=999', '--unset', 'oneTimeEventTypeId', '--credential', `authToken=${newToken}`]);
    expect(destUpdated.code, destUpdated.stderr).toBe(0);
    expect(destUpdated.stderr).toMatch(/^warning: credential authToken given on the command line stays in your shell history/);
    expect(destUpdated.stdout).toMatch(/^updated destination .*\n(.*\n)*credentials: +authToken \(write-only\)/);
    expect((await loadDestinations(pool, box, id))[0]).toMatchObject({ settings: { eventTypeId: 999 }, credentials: { authToken: newToken } });
    const listed = await run(['integrations', 'list']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID +NAME +STATUS +SALE TRIGGER +HOLD S +CHARGES +ACCOUNTS +STRIPE KEY +SECRETS$/);
    expect(listed.stdout).toMatch(new RegExp(`\\n${id} +Acme CLI +active +invoice\\.payment_succeeded +600 +all +1 +set +0\\n`));

    const disabled = await run(['integrations', 'disable', id]);
    expect({ code: disabled.code, stdout: disabled.stdout }).toEqual({ code: 0, stdout: `integration ${id} is disabled\n` });
    expect((await run(['integrations', 'enable', id, '--json'])).json()).toMatchObject({ status: 'active' });
    expect((await run(['destinations', 'get', id, destId])).stdout).toMatch(/^id: +.*-impact\n(.*\n)*settings: +\{"accountSid":"IRsid"/);
    expect((await run(['destinations', 'disable', id, destId, '--json'])).json()).toMatchObject({ enabled: false });
    expect((await run(['destinations', 'list', id])).stdout).toMatch(new RegExp(`^ID +TYPE +ENABLED +SETTINGS +CREDENTIALS\\n${destId} +impact +no +\\S+ +authToken\\n$`));
    expect((await run(['secrets', 'add', id, '--secret', '@env:WHSEC', '--keep-others'], { WHSEC: webhookSecret })).stdout).toMatch(/^added webhook secret \d+/);
    expect((await run(['secrets', 'list', id])).stdout).toMatch(/^ID +CREATED +EXPIRES +ACTIVE\n\d+ +\S+ +never +yes\n$/);
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([webhookSecret]);

    const audit = await run(['audit', '--integration', id, '--json']);
    const entries = audit.json<{ entries: { actor: string; action: string }[] }>().entries;
    expect(entries.map((e) => e.action).sort()).toEqual([
      'destination.add', 'destination.disable', 'destination.update', 'integration.create', 'integration.disable', 'integration.enable',
      'integration.update', 'webhook_secret.add',
    ]);
    expect(new Set(entries.map((e) => e.actor))).toEqual(new Set(['bob']));
    expect((await run(['audit', '--integration', id, '--limit', '2'])).stdout).toMatch(/^AT +ACTOR +ACTION +INTEGRATION +TARGET\n\S+ +bob +webhook_secret\.add +/);
  });

  it.each([
    { name: 'without a token: a configuration error (2) naming SAS_ADMIN_TOKEN', args: ['audit'], env: { SAS_ADMIN_TOKEN: undefined }, code: 2, stderr: /SAS_ADMIN_TOKEN: is required/ },
    { name: 'an unknown integration: 404 in one line (1)', args: ['integrations', 'get', 'nope-404'], env: {}, code: 1, stderr: /^sas: GET \/v1\/integrations\/nope-404: 404 integration nope-404 does not exist\n$/ },
    { name: 'a credential from an unset variable: usage (2)', args: ['destinations', 'update', 'x', 'y', '--credential', 'authToken=@env:NOT_SET_ANYWHERE'], env: {}, code: 2, stderr: /^sas: credential authToken: environment variable NOT_SET_ANYWHERE is not set\n$/ },
    { name: 'nothing to update: usage (2)', args: ['integrations', 'update', 'x'], env: {}, code: 2, stderr: /^sas: nothing to change/ },
    { name: 'a bad duration: usage (2)', args: ['secrets', 'add', 'x', '--secret', '@env:X', '--expire-others-after', 'soon'], env: {}, code: 2, stderr: /expected seconds or a duration like 30m/ },
    { name: 'an unknown destination type: usage (2)', args: ['destinations', 'add', 'x', 'y', '--type', 'mailchimp'], env: {}, code: 2, stderr: /Allowed choices are impact, partnerstack/ },
  ])('$name', async ({ args, env: e, code, stderr }) => {
    const r = await run(args, e);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(stderr) });
  });

  it('the binary, as a user types it: a secret piped on stdin, a refused token', async () => {
    const piped = randomWebhookSecret();
    secretValues.push(piped);
    const [added, refused] = await Promise.all([
      runSas(['secrets', 'add', id, '--secret', '-', '--expire-others-after', '0', '--json'], env, { input: `${piped}\n` }),
      runSas(['integrations', 'list'], { ...env, SAS_ADMIN_TOKEN: 'wrong' }),
    ]);
    printed.push(added.stdout, added.stderr, refused.stdout, refused.stderr);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ added: { active: true, expiresAt: null } });
    expect((await loadWebhookAuth(pool, box, id))?.secrets).toEqual([piped]);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 1, stderr: 'sas: GET /v1/integrations: 401 send Authorization: Bearer <ADMIN_TOKEN>\n' });
  });

  it('printed no secret value anywhere', () => {
    expect(printed.length).toBeGreaterThan(30);
    expect(secretValues.filter((s) => printed.some((t) => t.includes(s))).map((s) => `${s.slice(0, 6)}…`)).toEqual([]);
  });
});

describe('sas secrets reseal (a private database)', () => {
  const newKey = randomBytes(32).toString('base64');
  const dbName = `sas_reseal_${randomBytes(4).toString('hex')}`;
  let url: string;
  let privatePool: pg.Pool;
  beforeAll(async () => {
    await pool.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(stackEndpoints().databaseUrl);
    u.pathname = `/${dbName}`;
    url = u.toString();
    await migrate(url, log);
    privatePool = createPool(url, 2);
  });
  afterAll(async () => {
    await privatePool?.end();
    await pool.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it('re-seals every sealed value under the new key, readable with only that key; a second run changes nothing', async () => {
    const secrets = [randomWebhookSecret(), randomWebhookSecret(), randomWebhookSecret()];
    await createIntegration(privatePool, box, {
      id: 'acme', name: 'Acme', webhookSecrets: secrets.slice(0, 2),
      destinations: [
        { id: 'acme-hook', type: 'webhook', settings: { url: 'https://hooks.test/a' }, credentials: { signingSecret: 'whsec_a' } },
        { id: 'acme-impact', type: 'impact', settings: {}, credentials: { authToken: 'tok_a' } },
      ],
    });
    await createIntegration(privatePool, box, { id: 'beta', name: 'Beta', webhookSecrets: secrets.slice(2) });
    await privatePool.query(`UPDATE integrations SET stripe_key_ciphertext = $1 WHERE id = 'acme'`, [box.seal('rk_test_acme')]);

    const base = { DATABASE_URL: url, SECRETS_KEY: newKey, USER: 'carol' };
    const withoutOld = await sas(['secrets', 'reseal'], base);
    expect({ code: withoutOld.code, stderr: withoutOld.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^sas: webhook_secrets \d+: sealed with unknown key \w+: set it as SECRETS_KEY_PREVIOUS/) });

    const run = await sas(['secrets', 'reseal', '--batch-size', '2', '--json'], { ...base, SECRETS_KEY_PREVIOUS: TEST_SECRETS_KEY });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toEqual({ tables: [
      { table: 'webhook_secrets', resealed: 3, current: 0 },
      { table: 'destinations', resealed: 2, current: 0 },
      { table: 'integrations', resealed: 1, current: 0 },
    ] });

    const onlyNew = createSecretBox(parseKey(newKey));
    expect((await loadWebhookAuth(privatePool, onlyNew, 'acme'))?.secrets.slice().sort()).toEqual(secrets.slice(0, 2).sort());
    expect((await loadWebhookAuth(privatePool, onlyNew, 'beta'))?.secrets).toEqual(secrets.slice(2));
    expect((await loadDestinations(privatePool, onlyNew, 'acme')).map((d) => d.credentials)).toEqual([{ signingSecret: 'whsec_a' }, { authToken: 'tok_a' }]);
    const key = await privatePool.query(`SELECT stripe_key_ciphertext AS k FROM integrations WHERE id = 'acme'`);
    expect(onlyNew.open(key.rows[0].k)).toBe('rk_test_acme');
    await expect(loadWebhookAuth(privatePool, box, 'acme')).rejects.toThrow(/unknown key/);

    const audit = await privatePool.query(`SELECT actor, target, (after->>'resealed')::int AS n FROM admin_audit WHERE action = 'secrets.reseal' ORDER BY id`);
    expect(audit.rows).toEqual([
      { actor: 'carol', target: 'webhook_secrets.secret_ciphertext', n: 2 },
      { actor: 'carol', target: 'webhook_secrets.secret_ciphertext', n: 1 },
      { actor: 'carol', target: 'destinations.credentials_ciphertext', n: 2 },
      { actor: 'carol', target: 'integrations.stripe_key_ciphertext', n: 1 },
    ]);

    const again = await sas(['secrets', 'reseal', '--json'], base);
    expect(again.json()).toEqual({ tables: [
      { table: 'webhook_secrets', resealed: 0, current: 3 },
      { table: 'destinations', resealed: 0, current: 2 },
      { table: 'integrations', resealed: 0, current: 1 },
    ] });
  });
});
