import { Command } from 'commander';
import { loadIntegrationSettings } from '@sas/runtime';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { connect, operateEnv, shortId, type Connections } from '../../replay/connections.js';
import { ReadStalledError, TopicMissingError } from '../../replay/readRange.js';
import { rangeOf, type RangeOptions } from '../../replay/rangeOptions.js';
import { ReplayInputError, replayConversions, type ReplayRequest } from '../../replay/replayConversions.js';
import { replayEvents } from '../../replay/replayEvents.js';

const withRangeOptions = (c: Command): Command => c
  .argument('<integration>', 'the integration id')
  .option('--from <time>', 'first record at or after this time (ISO 8601 or epoch ms)')
  .option('--to <time>', 'records before this time (default: the topic\'s end when the replay starts)')
  .option('--partition <n>', 'an offset range on this partition instead of a time range')
  .option('--from-offset <offset>', 'with --partition: the first offset')
  .option('--to-offset <offset>', 'with --partition: the last offset, included (default: the end)')
  .option('--dry-run', 'read and report what would be sent per destination; write nothing');

const run = async <T>(ctx: CliContext, integrationId: string, o: RangeOptions, replay: (c: Connections, r: ReplayRequest) => Promise<T>): Promise<T> => {
  const range = rangeOf(o);
  const c = connect(ctx.env(operateEnv));
  try {
    if (!(await loadIntegrationSettings(c.pool, integrationId))) throw new CliError(`no integration ${integrationId}`, 2);
    const req: ReplayRequest = { integrationId, range, destinationId: o.destination ?? null, dryRun: Boolean(o.dryRun), replayId: shortId(), nowMs: Date.now() };
    if (!ctx.json()) ctx.stderr.write(`replay ${req.replayId}: reading with consumer group sas-replay-${integrationId}-${req.replayId}${req.dryRun ? ' (dry run: nothing is written)' : ''}\n`);
    return await replay(c, req);
  } catch (err) {
    if (err instanceof TopicMissingError || err instanceof ReplayInputError) throw new CliError(err.message, 2);
    // A failure, not a usage error: the range exists but could not be read to its end.
    if (err instanceof ReadStalledError) throw new CliError(err.message, 1, { stalledMs: err.stalledMs, partitions: err.partitions });
    throw err;
  } finally {
    await c.close();
  }
};

const counts = (m: Record<string, number>) => Object.entries(m).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ') || 'none';

export const registerReplayCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const replay = program.command('replay')
    .description('Re-run a topic for an integration over a time or offset range, in a fresh consumer group; the dispatcher\'s ledger makes sure nothing is credited twice');

  withRangeOptions(replay.command('conversions'))
    .description('Send the range\'s conversions again (unchanged, to conversions.due.v1): what a destination has is answered duplicate, what it lacks is sent once; conversions still on hold are left to the scheduler')
    .option('--destination <id>', 'only conversions this destination has not had yet, and report only it')
    .action(async (integrationId: string, o: RangeOptions) => {
      const r = await run(ctx, integrationId, o, replayConversions);
      ctx.print(r, () => [
        `replay ${r.replayId}${r.dryRun ? ' (dry run)' : ''}: ${r.read} read, ${r.matched} of ${integrationId}, ${r.resent} ${r.dryRun ? 'would be ' : ''}re-sent to ${r.to}`,
        ...Object.entries(r.skipped).map(([why, n]) => `  skipped ${n}: ${why}`),
        ...Object.entries(r.destinations).map(([d, e]) => `  ${d}: ${counts(e)}`),
      ].join('\n'));
    });

  withRangeOptions(replay.command('events'))
    .description('Send the range\'s raw Stripe events again (unchanged, with a replay header): the mapper re-maps events it handled, read-only, to the same conversion ids')
    .action(async (integrationId: string, o: RangeOptions) => {
      const r = await run(ctx, integrationId, o, replayEvents);
      ctx.print(r, () => [
        `replay ${r.replayId}${r.dryRun ? ' (dry run)' : ''}: ${r.read} read, ${r.matched} of ${integrationId}, ${r.resent} ${r.dryRun ? 'would be ' : ''}re-sent to ${r.topic}`,
        ...Object.entries(r.skipped).map(([why, n]) => `  skipped ${n}: ${why}`),
        ...Object.entries(r.eventTypes).map(([t, n]) => `  ${t}: ${n.events} (${n.handled} handled before)`),
        `  ${r.note}`,
        ...(r.preview ? [
          `  mapped read-only: ${r.preview.conversions} conversion(s)${r.preview.heldBefore ? ` (${r.preview.heldBefore} held before by the scheduler, which holds each once: sent nowhere again)` : ''}${Object.keys(r.preview.deadLetters).length ? `, dead letters: ${counts(r.preview.deadLetters)}` : ''}`,
          ...Object.entries(r.preview.destinations).map(([d, e]) => `  ${d}: ${counts(e)}`),
        ] : []),
      ].join('\n'));
    });
};
