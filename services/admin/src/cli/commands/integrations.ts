import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { DestinationTypes } from '@sas/contracts';
import { createLogger, createPool, createSecretBox, migrate, parseKey, SecretBoxError } from '@sas/runtime';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { ApiError, apiEnv, createAdminApi, type AdminApi } from '../../integrations/apiClient.js';
import { parseDurationSeconds, parseSettingArg, renderFields, renderTable } from '../../integrations/cliValues.js';
import { ResealError, resealAll, type ResealCount } from '../../integrations/reseal.js';
import {
  SecretInputError, parseSecretSource, readStdin, resolveCredentials, resolveSecret, type SecretIo,
} from '../../integrations/secretInput.js';
import { ChargeTrackings, SaleTriggers, type DestinationView, type IntegrationView, type WebhookSecretView } from '../../integrations/views.js';

const collect = (v: string, all: string[] = []) => [...all, v];
const duration = (v: string): number => {
  const s = parseDurationSeconds(v);
  if (s === null) throw new InvalidArgumentError('expected seconds or a duration like 30m, 24h, 7d');
  return s;
};
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
};
const SECRET_SOURCES = '@env:VAR, @file:path or - (stdin); a plain value works but warns';

interface Tools {
  readonly api: () => AdminApi;
  readonly io: SecretIo;
  readonly ctx: CliContext;
}

/** API refusals exit 1 with the API's one-line message; bad secret input is a usage error (2). */
const action = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => async (...args: A): Promise<void> => {
  try {
    await fn(...args);
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(err.message, 1, err.body);
    if (err instanceof SecretInputError) throw new CliError(err.message, 2);
    throw err;
  }
};

const integrationFields = (v: IntegrationView) => renderFields({
  id: v.id, name: v.name, status: v.status, saleTrigger: v.saleTrigger, refundHoldSeconds: v.refundHoldSeconds,
  chargeTracking: v.chargeTracking, eraseOnCustomerDeleted: v.eraseOnCustomerDeleted ? 'on' : 'off', accounts: v.accounts.join(', ') || '-', stripeKey: v.hasStripeKey ? 'set (write-only)' : 'not set',
  activeWebhookSecrets: v.activeWebhookSecrets, createdAt: v.createdAt, updatedAt: v.updatedAt,
});
const destinationFields = (v: DestinationView) => renderFields({
  id: v.id, integration: v.integrationId, type: v.type, enabled: v.enabled, settings: v.settings,
  credentials: v.credentials.length ? `${v.credentials.join(', ')} (write-only)` : '-', createdAt: v.createdAt, updatedAt: v.updatedAt,
});
const secretTable = (secrets: readonly WebhookSecretView[]) =>
  renderTable(['ID', 'CREATED', 'EXPIRES', 'ACTIVE'], secrets.map((s) => [s.id, s.createdAt, s.expiresAt ?? 'never', s.active ? 'yes' : 'no']));

const path = (...parts: string[]) => `/v1/${parts.map(encodeURIComponent).join('/')}`;

const registerIntegrations = (program: Command, { api, io, ctx }: Tools) => {
  const group = program.command('integrations')
    .description("Integrations: one merchant's Stripe account (webhook secrets, Stripe key, Connect accounts) and its partner destinations");

  const fieldOptions = (c: Command) => c
    .addOption(new Option('--sale-trigger <event>', 'the invoice event that counts a subscription sale').choices(SaleTriggers))
    .option('--refund-hold <duration>', 'how long a sale waits for a refund before it is sent (600, 10m, 1h)', duration)
    .addOption(new Option('--charge-tracking <mode>', "how charges count: off, all (every charge is a TRANSACTION), non_invoice").choices(ChargeTrackings))
    .addOption(new Option('--erase-on-customer-deleted <on|off>', "whether Stripe's customer.deleted erases the customer's personal data (default on)").choices(['on', 'off']))
    .option('--account <acct_id>', 'a Stripe Connect account whose events it accepts (repeat for several; replaces the list)', collect)
    .option('--stripe-key <source>', `the Stripe restricted (read-only) key, write-only: ${SECRET_SOURCES}`);
  type FieldOpts = { name?: string; saleTrigger?: string; refundHold?: number; chargeTracking?: string; eraseOnCustomerDeleted?: 'on' | 'off'; account?: string[]; stripeKey?: string };
  const bodyOf = (o: FieldOpts) => ({
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.saleTrigger !== undefined ? { saleTrigger: o.saleTrigger } : {}),
    ...(o.refundHold !== undefined ? { refundHoldSeconds: o.refundHold } : {}),
    ...(o.chargeTracking !== undefined ? { chargeTracking: o.chargeTracking } : {}),
    ...(o.eraseOnCustomerDeleted !== undefined ? { eraseOnCustomerDeleted: o.eraseOnCustomerDeleted === 'on' } : {}),
    ...(o.account !== undefined ? { accounts: o.account } : {}),
  });

  const keyOf = async (o: FieldOpts) =>
    (o.stripeKey === undefined ? {} : { stripeKey: await resolveSecret('--stripe-key', parseSecretSource(o.stripeKey), io) });

  fieldOptions(group.command('create')
    .description('Create an integration')
    .argument('<id>', 'integration id (letters, digits, - and _; it is part of the webhook URL)')
    .requiredOption('--name <name>', "the merchant's name"))
    .addHelpText('after', '\nExample:\n  sas integrations create acme --name "Acme Inc" --refund-hold 1h --stripe-key @env:ACME_STRIPE_KEY')
    .action(action(async (id: string, o: FieldOpts) => {
      // One request: the integration and its key are created together or not at all.
      const v = await api().call<IntegrationView>('POST', '/v1/integrations', { id, ...bodyOf(o), ...(await keyOf(o)) });
      ctx.print(v, () => `created integration ${id}\n${integrationFields(v)}`);
    }));

  group.command('list')
    .description('List integrations')
    .action(action(async () => {
      const r = await api().call<{ integrations: IntegrationView[] }>('GET', '/v1/integrations');
      ctx.print(r, () => renderTable(
        ['ID', 'NAME', 'STATUS', 'SALE TRIGGER', 'HOLD S', 'CHARGES', 'ACCOUNTS', 'STRIPE KEY', 'SECRETS'],
        r.integrations.map((i) => [i.id, i.name, i.status, i.saleTrigger, i.refundHoldSeconds, i.chargeTracking, i.accounts.length, i.hasStripeKey ? 'set' : 'no', i.activeWebhookSecrets]),
      ));
    }));

  group.command('get')
    .description('Show an integration (secrets are write-only: only whether they are set)')
    .argument('<id>', 'integration id')
    .action(action(async (id: string) => {
      const v = await api().call<IntegrationView>('GET', path('integrations', id));
      ctx.print(v, () => integrationFields(v));
    }));

  fieldOptions(group.command('update')
    .description('Change an integration: only the fields given')
    .argument('<id>', 'integration id')
    .option('--name <name>', "the merchant's name"))
    .addHelpText('after', '\nExample:\n  sas integrations update acme --refund-hold 2h --account acct_1 --account acct_2')
    .action(action(async (id: string, o: FieldOpts) => {
      const body = { ...bodyOf(o), ...(await keyOf(o)) };
      if (Object.keys(body).length === 0) throw new CliError('nothing to change: give at least one option (see sas integrations update --help)', 2);
      const v = await api().call<IntegrationView>('PATCH', path('integrations', id), body);
      ctx.print(v, () => `updated integration ${id}\n${integrationFields(v)}`);
    }));

  for (const verb of ['disable', 'enable'] as const) {
    group.command(verb)
      .description(verb === 'disable'
        ? 'Disable an integration: ingest refuses its webhooks (404) until it is enabled; Stripe retries them for up to 3 days'
        : 'Enable a disabled integration')
      .argument('<id>', 'integration id')
      .action(action(async (id: string) => {
        const v = await api().call<IntegrationView>('POST', path('integrations', id, verb));
        ctx.print(v, () => `integration ${id} is ${v.status}`);
      }));
  }
};

type DestinationOpts = { type?: string; setting?: string[]; settingsFile?: string; unset?: string[]; credential?: string[]; credentialsFile?: string; disabled?: boolean };

const settingsOf = async (o: DestinationOpts): Promise<Record<string, unknown> | undefined> => {
  const out: Record<string, unknown> = {};
  let given = false;
  if (o.settingsFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(o.settingsFile, 'utf8'));
    } catch (err) {
      throw new CliError(`--settings-file ${o.settingsFile}: ${(err as Error).message}`, 2);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`--settings-file ${o.settingsFile}: expected a JSON object`, 2);
    Object.assign(out, parsed);
    given = true;
  }
  for (const s of o.setting ?? []) {
    const kv = parseSettingArg(s);
    if (!kv) throw new CliError(`--setting ${s}: expected name=value`, 2);
    out[kv[0]] = kv[1];
    given = true;
  }
  for (const name of o.unset ?? []) {
    out[name] = null;
    given = true;
  }
  return given ? out : undefined;
};

const registerDestinations = (program: Command, { api, io, ctx }: Tools) => {
  const group = program.command('destinations')
    .description("Partner destinations of an integration (impact, partnerstack, everflow, tracknow, webhook, dry_run); credentials are write-only");
  const settingOptions = (c: Command) => c
    .option('--setting <name=value>', 'a non-secret setting (repeat; true/false and numbers are typed)', collect)
    .option('--settings-file <path>', 'settings as a JSON object (--setting flags win)')
    .option('--credential <name=source>', `a credential, write-only (repeat): name=${SECRET_SOURCES}`, collect)
    .option('--credentials-file <path>', 'credentials as a JSON object of strings, write-only; - reads it from stdin');

  settingOptions(group.command('add')
    .description('Add a destination to an integration (refused, naming the field, when the dispatcher could not use it)')
    .argument('<integration>', 'integration id')
    .argument('<id>', 'destination id (unique across integrations)')
    .addOption(new Option('--type <type>', 'partner platform').choices(DestinationTypes).makeOptionMandatory())
    .option('--disabled', 'add it disabled (the dispatcher skips it until enabled)'))
    .addHelpText('after', [
      '', 'Example:',
      '  sas destinations add acme acme-impact --type impact --setting accountSid=IRxxxx --setting campaignId=1000 \\',
      '    --setting eventTypeId=222 --setting recurringEventTypeId=333 --credential authToken=@env:IMPACT_TOKEN',
    ].join('\n'))
    .action(action(async (integration: string, id: string, o: DestinationOpts) => {
      const credentials = await resolveCredentials({ file: o.credentialsFile, credential: o.credential }, io);
      const settings = (await settingsOf(o)) ?? {};
      const v = await api().call<DestinationView>('POST', path('integrations', integration, 'destinations'), {
        id, type: o.type, settings, ...(credentials ? { credentials } : {}), ...(o.disabled ? { enabled: false } : {}),
      });
      ctx.print(v, () => `added destination ${id} to ${integration}\n${destinationFields(v)}`);
    }));

  group.command('list')
    .description("List an integration's destinations")
    .argument('<integration>', 'integration id')
    .action(action(async (integration: string) => {
      const r = await api().call<{ destinations: DestinationView[] }>('GET', path('integrations', integration, 'destinations'));
      ctx.print(r, () => renderTable(['ID', 'TYPE', 'ENABLED', 'SETTINGS', 'CREDENTIALS'],
        r.destinations.map((d) => [d.id, d.type, d.enabled ? 'yes' : 'no', Object.keys(d.settings).join(',') || '-', d.credentials.join(',') || '-'])));
    }));

  group.command('get')
    .description('Show a destination (credentials by name only)')
    .argument('<integration>', 'integration id')
    .argument('<id>', 'destination id')
    .action(action(async (integration: string, id: string) => {
      const v = await api().call<DestinationView>('GET', path('integrations', integration, 'destinations', id));
      ctx.print(v, () => destinationFields(v));
    }));

  settingOptions(group.command('update')
    .description('Change a destination: settings given are merged into the current ones; credentials given replace all of them')
    .argument('<integration>', 'integration id')
    .argument('<id>', 'destination id')
    .option('--unset <name>', 'remove a setting (repeat)', collect))
    .addHelpText('after', '\nExample:\n  sas destinations update acme acme-impact --setting eventTypeId=444 --credential authToken=@env:IMPACT_TOKEN')
    .action(action(async (integration: string, id: string, o: DestinationOpts) => {
      const credentials = await resolveCredentials({ file: o.credentialsFile, credential: o.credential }, io);
      const settings = await settingsOf(o);
      if (!settings && !credentials) throw new CliError('nothing to change: give --setting, --unset, --settings-file, --credential or --credentials-file', 2);
      const v = await api().call<DestinationView>('PATCH', path('integrations', integration, 'destinations', id), {
        ...(settings ? { settings } : {}), ...(credentials ? { credentials } : {}),
      });
      ctx.print(v, () => `updated destination ${id}\n${destinationFields(v)}`);
    }));

  for (const verb of ['disable', 'enable'] as const) {
    group.command(verb)
      .description(verb === 'disable' ? 'Disable a destination: the dispatcher stops sending to it' : 'Enable a destination')
      .argument('<integration>', 'integration id')
      .argument('<id>', 'destination id')
      .action(action(async (integration: string, id: string) => {
        const v = await api().call<DestinationView>('POST', path('integrations', integration, 'destinations', id, verb));
        ctx.print(v, () => `destination ${id} is ${v.enabled ? 'enabled' : 'disabled'}`);
      }));
  }
};

const resealEnv = z.object({
  DATABASE_URL: z.string().url('must be a postgres:// URL'),
  SECRETS_KEY: z.string().min(1, 'the new key (openssl rand -base64 32)'),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
  USER: z.string().optional(),
});

const registerSecrets = (program: Command, { api, io, ctx }: Tools) => {
  const group = program.command('secrets')
    .description('Write-only secrets: Stripe webhook signing secrets of an integration, and re-sealing every secret after a SECRETS_KEY rotation');

  group.command('add')
    .description('Add a webhook signing secret (a manual roll: the others keep verifying for a while, 24 h by default)')
    .argument('<integration>', 'integration id')
    .requiredOption('--secret <source>', `the endpoint's signing secret (whsec_...): ${SECRET_SOURCES}`)
    .option('--expire-others-after <duration>', 'how long the older secrets keep verifying (0 = stop now; 30m, 24h, 7d)', duration)
    .option('--keep-others', 'leave the older secrets without expiry')
    .addHelpText('after', '\nExample:\n  sas secrets add acme --secret @env:ACME_WHSEC --expire-others-after 2h')
    .action(action(async (integration: string, o: { secret: string; expireOthersAfter?: number; keepOthers?: boolean }) => {
      if (o.keepOthers && o.expireOthersAfter !== undefined) throw new CliError('give --expire-others-after or --keep-others, not both', 2);
      const secret = await resolveSecret('--secret', parseSecretSource(o.secret), io);
      const r = await api().call<{ added: WebhookSecretView; secrets: WebhookSecretView[] }>('POST', path('integrations', integration, 'webhook-secrets'), {
        secret, ...(o.keepOthers ? { expireOthersAfterSeconds: null } : o.expireOthersAfter !== undefined ? { expireOthersAfterSeconds: o.expireOthersAfter } : {}),
      });
      ctx.print(r, () => `added webhook secret ${r.added.id} to ${integration}\n${secretTable(r.secrets)}`);
    }));

  group.command('list')
    .description("List an integration's webhook signing secrets: ids, creation and expiry (never the secrets)")
    .argument('<integration>', 'integration id')
    .action(action(async (integration: string) => {
      const r = await api().call<{ secrets: WebhookSecretView[] }>('GET', path('integrations', integration, 'webhook-secrets'));
      ctx.print(r, () => secretTable(r.secrets));
    }));

  group.command('reseal')
    .description('Re-seal every stored secret with SECRETS_KEY, reading with SECRETS_KEY_PREVIOUS too (talks to PostgreSQL: DATABASE_URL)')
    .option('--batch-size <n>', 'rows per transaction', positiveInt, 500)
    .addHelpText('after', [
      '', 'After setting the new key as SECRETS_KEY and the old one as SECRETS_KEY_PREVIOUS (README, "Rotating SECRETS_KEY"):',
      '  SECRETS_KEY=<new> SECRETS_KEY_PREVIOUS=<old> DATABASE_URL=postgres://... sas secrets reseal',
      'Values already under the new key are left alone, so it can be run again after an interruption.',
    ].join('\n'))
    .action(action(async (o: { batchSize: number }) => {
      const env = ctx.env(resealEnv);
      let box;
      try {
        box = createSecretBox(parseKey(env.SECRETS_KEY), env.SECRETS_KEY_PREVIOUS ? [parseKey(env.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY_PREVIOUS')] : []);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      await migrate(env.DATABASE_URL, createLogger('sas', 'silent'));
      const pool = createPool(env.DATABASE_URL, 1);
      let counts: ResealCount[];
      try {
        counts = await resealAll(pool, box, { batchSize: o.batchSize, actor: env.USER || 'sas' });
      } catch (err) {
        if (err instanceof ResealError || err instanceof SecretBoxError) throw new CliError(`${err.message} (nothing after it was re-sealed; run again once fixed)`, 1);
        throw err;
      } finally {
        await pool.end();
      }
      ctx.print({ tables: counts }, () => renderTable(['TABLE', 'RESEALED', 'ALREADY CURRENT'], counts.map((c) => [c.table, c.resealed, c.current])));
    }));
};

interface AuditEntryView { id: string; at: string; actor: string; action: string; integrationId: string | null; target: string | null }

const registerAudit = (program: Command, { api, ctx }: Tools) => {
  program.command('audit')
    .description('Show the audit trail of admin changes, newest first (who, when, what; secrets shown as "(write-only)")')
    .option('--integration <id>', 'only changes to this integration')
    .option('--limit <n>', 'how many entries', positiveInt, 50)
    .addHelpText('after', '\nExample:\n  sas audit --integration acme --limit 20\n  sas audit --json   # with the before/after of each change')
    .action(action(async (o: { integration?: string; limit: number }) => {
      const q = new URLSearchParams({ limit: String(o.limit), ...(o.integration ? { integrationId: o.integration } : {}) });
      const r = await api().call<{ entries: AuditEntryView[] }>('GET', `/v1/audit?${q.toString()}`);
      ctx.print(r, () => renderTable(['AT', 'ACTOR', 'ACTION', 'INTEGRATION', 'TARGET'], r.entries.map((e) => [e.at, e.actor, e.action, e.integrationId, e.target])));
    }));
};

/**
 * `sas integrations|destinations|secrets|audit`: the admin API's integration routes from the
 * command line (SAS_API_URL, SAS_ADMIN_TOKEN; X-Actor is $USER), and the direct re-seal.
 */
export const registerIntegrationCommands: RegisterCommands = (program, ctx) => {
  const tools: Tools = {
    api: () => createAdminApi(ctx.env(apiEnv)),
    io: { env: process.env, readStdin: () => readStdin(), warn: (m) => { ctx.stderr.write(`${m}\n`); } },
    ctx,
  };
  registerIntegrations(program, tools);
  registerDestinations(program, tools);
  registerSecrets(program, tools);
  registerAudit(program, tools);
};
