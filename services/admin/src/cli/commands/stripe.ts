import type { Command } from 'commander';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { ApiError, apiEnv, createAdminApi, type Method } from '../../integrations/apiClient.js';
import { SecretInputError, parseSecretSource, readStdin, resolveSecret, type SecretIo } from '../../integrations/secretInput.js';
import type { PermissionReport } from '../../stripe/keyPermissions.js';
import type { ConnectResult, FinishResult, RollResult } from '../../stripe/stripeSetup.js';
import type { ListedEndpoint } from '../../stripe/endpointPlan.js';
import type { EndpointView } from '../../stripe/stripeStore.js';

/** The key, from `@env:VAR`, `@file:path` or `-` (stdin), as every secret the CLI takes (a literal works, with a warning). */
export const readKeyArg = async (arg: string | undefined, io: SecretIo): Promise<string | undefined> => {
  if (arg === undefined) return undefined;
  try {
    return (await resolveSecret('--key', parseSecretSource(arg), io)).trim();
  } catch (err) {
    if (err instanceof SecretInputError) throw new CliError(err.message, 2);
    throw err;
  }
};

/** `90s`, `30m`, `24h`, `2d` or plain seconds → seconds. */
export const parseWindow = (s: string): number => {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new CliError(`--window ${s}: expected a duration like 24h, 30m, 90s, 2d or 0`, 2);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
};

const STATUS_LABEL = { ok: 'ok', missing: 'MISSING', unknown: 'UNKNOWN', not_checkable: 'n/a' } as const;

export const renderPermissions = (r: PermissionReport): string => {
  const lines = [`Stripe key: ${r.keyKind}, ${r.livemode ? 'live' : 'test'} mode`];
  for (const p of r.permissions) {
    lines.push(`  ${STATUS_LABEL[p.status].padEnd(8)} ${p.dashboard}  (${p.why})`);
    if (p.detail && p.status !== 'ok') lines.push(`           Stripe: ${p.detail}`);
  }
  if (r.keyKind === 'secret') lines.push('Note: this is a full secret key; a restricted key (rk_) with the permissions above is safer.');
  if (r.missing.length > 0) {
    lines.push('', 'Enable on the key in the Stripe Dashboard (Developers → API keys → the restricted key → Edit):', ...r.missing.map((m) => `  - ${m}`));
  }
  if (r.problem) lines.push('', `Could not finish the check: ${r.problem}`);
  return lines.join('\n');
};

const renderEndpoints = (endpoints: readonly ListedEndpoint[]): string =>
  endpoints.map((e) => `  ${e.id}  ${e.url}  ${e.status}  [${e.enabledEvents.join(', ')}]`).join('\n');

/**
 * The API's refusals as the user should read them: its own message (a malformed request or a
 * refused token is a usage problem, exit 2), with the permissions table, or the account's
 * endpoints at the limit, for people.
 */
const apiCall = async <T>(ctx: CliContext, method: Method, path: string, body?: unknown): Promise<T> => {
  try {
    return await createAdminApi(ctx.env(apiEnv)).call<T>(method, path, body);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const b = (err.body ?? {}) as { error?: string; message?: string; details?: { permissions?: unknown; endpoints?: ListedEndpoint[] } };
    const code = err.status === 400 || err.status === 401 ? 2 : 1;
    if (err.status === 401) throw new CliError('the admin API refused the token: SAS_ADMIN_TOKEN must be its ADMIN_TOKEN', 2);
    const message = b.message ?? err.message;
    if (!ctx.json()) {
      if (b.details?.permissions) ctx.stdout.write(`${renderPermissions(b.details as unknown as PermissionReport)}\n`);
      if (b.error === 'endpoint_limit' && b.details?.endpoints) {
        throw new CliError(`${message.split(' The endpoints: ')[0]}\nThe account's endpoints:\n${renderEndpoints(b.details.endpoints)}`, code, b.details);
      }
    }
    throw new CliError(message, code, b.details ?? (b.error ? { error: b.error } : undefined));
  }
};

const secretIo = (ctx: CliContext): SecretIo => ({ env: process.env, readStdin: () => readStdin(), warn: (m) => { ctx.stderr.write(`${m}\n`); } });

const path = (integration: string, what: string) => `/v1/integrations/${encodeURIComponent(integration)}/stripe${what}`;

export const registerStripeCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const stripe = program.command('stripe')
    .description("Stripe setup of an integration from its restricted key: check the key's permissions, register the webhook endpoint, roll its signing secret (through the admin API: SAS_API_URL, SAS_ADMIN_TOKEN)");

  stripe.command('check')
    .description('Check that a Stripe key has every permission the integration needs; lists each as ok or MISSING with what to enable (exit 1 if any is missing)')
    .argument('<integration>', 'integration id')
    .option('--key <source>', 'the key: @env:VAR, @file:path or - (stdin); default: the key stored for the integration')
    .action(async (integration: string, o: { key?: string }) => {
      const key = await readKeyArg(o.key, secretIo(ctx));
      const report = await apiCall<PermissionReport>(ctx, 'POST', path(integration, '/check'), key ? { key } : {});
      ctx.print(report, () => renderPermissions(report));
      if (!report.ok) {
        throw new CliError(report.problem
          ? `the key could not be checked: ${report.problem}`
          : `the key lacks ${report.missing.length} permission${report.missing.length === 1 ? '' : 's'}: ${report.missing.join('; ')}`, 1);
      }
    });

  stripe.command('connect')
    .description("Check the key, then register (or update) the integration's webhook endpoint with the events its destinations need, and store the key and signing secret")
    .argument('<integration>', 'integration id')
    .option('--key <source>', 'the key: @env:VAR, @file:path or - (stdin); default: the key stored for the integration (to update the events)')
    .action(async (integration: string, o: { key?: string }) => {
      const key = await readKeyArg(o.key, secretIo(ctx));
      const r = await apiCall<ConnectResult>(ctx, 'POST', path(integration, '/connect'), key ? { key } : {});
      ctx.print(r, () => [
        `Webhook endpoint ${r.endpoint.id} ${r.endpoint.action}: ${r.url}`,
        'Events:',
        ...r.endpoint.enabledEvents.map((e) => `  ${e.padEnd(42)} ${(r.eventReasons[e] ?? []).join('; ')}`),
        ...(r.endpoint.action === 'created' ? ['Signing secret stored: ingest accepts events from this endpoint now.'] : []),
        ...r.retired.map((id) => `Deleted endpoint ${id} (its roll window had ended).`),
        ...r.warnings.map((w) => `Warning: ${w}`),
      ].join('\n'));
    });

  stripe.command('roll-secret')
    .description('Roll the webhook signing secret: a new endpoint and secret take over; the old secret stays valid for the window, then finish-roll deletes the old endpoint')
    .argument('<integration>', 'integration id')
    .option('--window <duration>', 'how long the old secret stays valid (24h, 30m, 0 = stop it now)', '24h')
    .action(async (integration: string, o: { window: string }) => {
      const windowSeconds = parseWindow(o.window);
      const r = await apiCall<RollResult>(ctx, 'POST', path(integration, '/roll-secret'), { windowSeconds });
      ctx.print(r, () => [
        `New webhook endpoint ${r.newEndpointId}; its signing secret is stored.`,
        r.windowSeconds === 0
          ? `The old endpoint ${r.oldEndpointId} is deleted and its secret no longer accepted.`
          : `The old endpoint ${r.oldEndpointId} keeps delivering and its secret is accepted until ${r.oldSecretExpiresAt}; meanwhile both deliver every event (duplicates are dropped).\nThen run \`sas stripe finish-roll ${integration}\` (or any later connect or roll) to delete it.`,
        ...r.retired.filter((id) => id !== r.oldEndpointId).map((id) => `Deleted endpoint ${id} (an earlier roll's window had ended).`),
      ].join('\n'));
    });

  stripe.command('finish-roll')
    .description("Delete the old endpoints whose roll window has ended (--now: end the windows now; the old secrets stop at once)")
    .argument('<integration>', 'integration id')
    .option('--now', 'end every open roll window now', false)
    .action(async (integration: string, o: { now: boolean }) => {
      const r = await apiCall<FinishResult>(ctx, 'POST', path(integration, '/finish-roll'), { now: o.now });
      ctx.print(r, () => [
        r.retired.length > 0 ? `Deleted ${r.retired.join(', ')}; their secrets are no longer accepted.` : 'No roll window had ended.',
        ...r.stillRetiring.map((s) => `${s.endpointId} retires at ${s.retireAt}.`),
      ].join('\n'));
    });

  stripe.command('show')
    .description('The webhook URL of the integration and the endpoints sas registered for it')
    .argument('<integration>', 'integration id')
    .action(async (integration: string) => {
      const r = await apiCall<{ url: string; endpoints: EndpointView[] }>(ctx, 'GET', path(integration, ''));
      ctx.print(r, () => [
        `Webhook URL: ${r.url}`,
        ...(r.endpoints.length === 0 ? ['No endpoint registered by sas (run `sas stripe connect`).'] : r.endpoints.map((e) =>
          `  ${e.endpointId}  ${e.livemode ? 'live' : 'test'}  ${e.retireAt ? `retires ${e.retireAt}` : 'current'}  [${e.enabledEvents.join(', ')}]`)),
      ].join('\n'));
    });
};
