import { z } from 'zod';
import type { Command } from 'commander';
import { baseEnv, createKafka, createLogger, createPool } from '@sas/runtime';
import { CliError, type CliContext, type RegisterCommands } from '../context.js';
import { consumerGroups } from '../../status/groups.js';
import { readStatus } from '../../status/readStatus.js';
import { renderStatus } from '../../status/report.js';

/** Kafka and PostgreSQL only; the group ids follow the services' own variables when they are set. */
const statusEnv = z.object({
  ...baseEnv,
  MAPPER_GROUP_ID: z.string().min(1).optional(),
  SCHEDULER_GROUP_ID: z.string().min(1).optional(),
  DISPATCHER_GROUP_ID: z.string().min(1).optional(),
  /** Optional: comma-separated base URLs of the services' /metrics, shown under the rest. */
  SAS_METRICS_URLS: z.string().optional()
    .transform((s) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean))
    .refine((urls) => urls.every((u) => URL.canParse(u)), 'comma-separated http:// URLs'),
});

export const registerStatusCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('status')
    .description('One integration at a glance: consumer lag per group, dispatch per destination (success rate, last error), held refunds, open dead letters')
    .argument('<integrationId>', 'the integration')
    .addHelpText('after', '\nNeeds KAFKA_BROKERS, DATABASE_URL and KAFKA_TOPIC_PREFIX (the deployment\'s); MAPPER_GROUP_ID, SCHEDULER_GROUP_ID and\nDISPATCHER_GROUP_ID when the services set them; SAS_METRICS_URLS (optional) adds their /metrics. See services/admin/docs/status.md.')
    .action(async (integrationId: string) => {
      const env = ctx.env(statusEnv);
      const pool = createPool(env.DATABASE_URL, 4);
      const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID ?? 'sas', log: createLogger('sas', 'silent') });
      try {
        const report = await readStatus({ kafka, pool, prefix: env.KAFKA_TOPIC_PREFIX, groups: consumerGroups(env), now: Date.now, metricsUrls: env.SAS_METRICS_URLS }, integrationId);
        if (!report) throw new CliError(`no integration ${integrationId}`, 1);
        ctx.print(report, () => renderStatus(report, Date.now()));
      } finally {
        await pool.end();
      }
    });
};
