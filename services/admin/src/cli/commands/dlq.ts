import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import type { MapperDeadLetter } from '@sas/contracts';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { connect, operateEnv, type Connections } from '../../replay/connections.js';
import { TopicMissingError } from '../../replay/readRange.js';
import { DeadLetterSources, DeadLetterStates, parseEntryId, type DeadLetterEntry, type DeadLetterSource } from '../../dlq/entries.js';
import { readDeadLetter, readDeadLetters, readOpenWithValues } from '../../dlq/readDeadLetters.js';
import { inspectDeadLetter, type DeadLetterDetail } from '../../dlq/inspect.js';
import { dropDeadLetter, requeueDispatcherEntry, requeueMapperEntry, type RequeueResult } from '../../dlq/actions.js';

const withConnections = async <T>(ctx: CliContext, fn: (c: Connections, actor: string) => Promise<T>): Promise<T> => {
  const env = ctx.env(operateEnv);
  const c = connect(env);
  try {
    return await fn(c, env.USER ?? userInfo().username);
  } catch (err) {
    if (err instanceof TopicMissingError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    await c.close();
  }
};

const sourceOption = () => new Option('--source <source>', 'only this dead-letter topic').choices([...DeadLetterSources]);

const oneLine = (e: DeadLetterEntry): string => {
  const what = e.source === 'dispatcher'
    ? `${e.conversionId} → ${e.destinationId} (${e.action}, ${e.attempts} attempt${e.attempts === 1 ? '' : 's'})`
    : `${e.eventId ?? '(no event id)'} ${e.eventType ?? ''}`.trim();
  const when = e.at ? new Date(e.at).toISOString() : '-';
  return `${e.id}  ${e.state}  ${when}  ${e.integrationId ?? '-'}  ${what}  ${e.code ?? '-'}: ${e.reason.replace(/\s+/g, ' ').slice(0, 160)}`;
};

const describeDetail = (d: DeadLetterDetail): string => {
  const e = d.entry;
  const c = d.conversion as Record<string, unknown> | null | undefined;
  return [
    `${e.id}  ${e.state}`,
    `  integration  ${e.integrationId ?? '-'}`,
    `  reason       ${e.code ?? '-'}: ${e.reason}`,
    `  where        ${e.topic} partition ${e.partition} offset ${e.offset}, dead-lettered ${e.at ? new Date(e.at).toISOString() : '-'}`,
    ...(e.source === 'dispatcher' ? [
      `  delivery     ${e.action} to ${e.destinationId}, ${e.attempts} attempt(s)`,
      `  ledger now   ${d.ledger ? `${d.ledger.status} (${d.ledger.attempts} attempts, ${d.ledger.updatedAt})` : 'no row'}`,
      `  conversion   ${c && !('error' in c) ? `${c.kind} ${c.conversionId} order ${c.orderId}, ${c.amountMinor} ${c.currency} minor units` : JSON.stringify(c)}`,
    ] : [
      `  event        ${d.event ? `${d.event.id} ${d.event.type}` : 'not readable'} (${d.rawRecord?.bytes ?? 0} bytes at ${d.rawRecord?.topic} ${d.rawRecord?.partition}:${d.rawRecord?.offset})`,
      `  handled      ${d.handled ? 'yes (marked when dead-lettered, or mapped since)' : 'no'}`,
    ]),
    ...d.actions.map((a) => `  ${a.at}  ${a.action} by ${a.actor}${a.reason ? `: ${a.reason}` : ''}`),
  ].join('\n');
};

/** An entry by its id, or a usage error (bad id, exit 2) or a failure (no such record, exit 1). */
const entryById = async (c: Connections, id: string) => {
  const at = parseEntryId(id);
  if (!at) throw new CliError(`not a dead-letter id: ${id} (expected mapper:<partition>:<offset> or dispatcher:<partition>:<offset>, as \`sas dlq list\` prints)`, 2);
  const found = await readDeadLetter(c, at.source, at.partition, at.offset);
  if (!found) throw new CliError(`no dead letter at ${id} (its topic has no record there)`, 1);
  return found;
};

const requeueOne = (c: Connections, actor: string, e: DeadLetterEntry, value: Record<string, unknown>): Promise<RequeueResult> => {
  const deps = { kafka: c.kafka, pool: c.pool, prefix: c.prefix, actor };
  return e.source === 'dispatcher' ? requeueDispatcherEntry(deps, e) : requeueMapperEntry(deps, e, value as unknown as MapperDeadLetter);
};

export const registerDlqCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const dlq = program.command('dlq').description('Dead letters of the mapper (events it could not map) and the dispatcher (conversions a destination would not take): list, inspect, requeue, drop');

  dlq.command('list')
    .description('List dead letters (open ones unless --state says otherwise), oldest first, with their reason')
    .addOption(sourceOption())
    .option('--integration <id>', 'only this integration')
    .addOption(new Option('--state <state>', 'which ones').choices([...DeadLetterStates, 'all']).default('open'))
    .action(async (o: { source?: DeadLetterSource; integration?: string; state: 'open' | 'requeued' | 'dropped' | 'all' }) => {
      const report = await withConnections(ctx, (c) => readDeadLetters(c, { source: o.source, integrationId: o.integration, state: o.state }));
      ctx.print(report, () => {
        const counts = Object.entries(report.counts).map(([s, n]) => `${s}: ${n.open} open, ${n.requeued} requeued, ${n.dropped} dropped`).join('; ');
        return [...report.entries.map(oneLine), report.entries.length === 0 ? `no ${o.state === 'all' ? '' : `${o.state} `}dead letters` : '', counts]
          .filter(Boolean).join('\n');
      });
    });

  dlq.command('inspect')
    .description('Show one dead letter: why, where it sits, what was done with it, and the conversion (dispatcher) or the raw event (mapper)')
    .argument('<id>', 'the id `sas dlq list` prints, e.g. dispatcher:2:17')
    .action(async (id: string) => {
      const detail = await withConnections(ctx, async (c) => {
        const { entry, value } = await entryById(c, id);
        return inspectDeadLetter(c, entry, value);
      });
      ctx.print(detail, () => describeDetail(detail));
    });

  dlq.command('requeue')
    .description('After fixing the cause, send a dead letter again (one by id, or --all open ones): the dispatcher\'s ledger row is pending again (never credited twice), the mapper\'s raw event is written again to be mapped as new')
    .argument('[id]', 'the id `sas dlq list` prints')
    .option('--all', 'every open dead letter (narrow with --integration and --source)')
    .option('--integration <id>', 'with --all: only this integration')
    .addOption(sourceOption())
    .action(async (id: string | undefined, o: { all?: boolean; integration?: string; source?: DeadLetterSource }) => {
      if (Boolean(id) === Boolean(o.all)) throw new CliError('give one dead-letter id, or --all', 2);
      if (id && (o.integration || o.source)) throw new CliError('--integration and --source go with --all', 2);
      const results = await withConnections(ctx, async (c, actor) => {
        if (id) {
          const { entry, value } = await entryById(c, id);
          return [await requeueOne(c, actor, entry, value)];
        }
        const out: RequeueResult[] = [];
        for (const { entry, value } of await readOpenWithValues(c, { source: o.source, integrationId: o.integration })) {
          out.push(await requeueOne(c, actor, entry, value));
        }
        return out;
      });
      ctx.print({ results }, () => (results.length === 0 ? 'no open dead letters to requeue' : results.map((r) => `${r.id}: ${r.result.replace(/_/g, ' ')}: ${r.detail}`).join('\n')));
    });

  dlq.command('drop')
    .description('Give up on a dead letter, with the reason (kept in the audit trail); a dispatcher\'s ledger row stays failed, so no replay sends it by itself')
    .argument('<id>', 'the id `sas dlq list` prints')
    .requiredOption('--reason <text>', 'why it is dropped (required)')
    .action(async (id: string, o: { reason: string }) => {
      if (!o.reason.trim()) throw new CliError('--reason must say why', 2);
      const entry = await withConnections(ctx, async (c, actor) => {
        const found = await entryById(c, id);
        await dropDeadLetter({ kafka: c.kafka, pool: c.pool, prefix: c.prefix, actor }, found.entry, o.reason.trim());
        return found.entry;
      });
      ctx.print({ id: entry.id, result: 'dropped', reason: o.reason.trim() }, () => `${entry.id}: dropped (${o.reason.trim()})`);
    });
};
