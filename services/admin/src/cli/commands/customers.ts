import type { ErasureResult } from '@sas/runtime';
import { CliError, type RegisterCommands } from '../context.js';
import { ApiError, apiEnv, createAdminApi } from '../../integrations/apiClient.js';
import { renderFields } from '../../integrations/cliValues.js';

interface EraseOpts { customer?: string; email?: string; reason?: string }

/** `sas customers erase`: through the admin API (operator token), audited there. */
export const registerCustomerCommands: RegisterCommands = (program, ctx) => {
  const group = program.command('customers').description("Customers' personal data: erasure (README, \"Personal data\")");
  group.command('erase')
    .description("Erase a customer's email, name and address from the pipeline's stores (idempotent, audited); money and ids stay, so held refunds still reach partners")
    .argument('<integration>', 'integration id')
    .option('--customer <cus_id>', 'the Stripe customer id')
    .option('--email <address>', 'the email, when the customer id is not known (every customer and checkout with it)')
    .option('--reason <text>', 'why: a ticket or the request it answers (required; kept with the erasure)')
    .addHelpText('after', '\nExamples:\n  sas customers erase acme --customer cus_Q1x2 --reason "GDPR art. 17, ticket 4711"\n  sas customers erase acme --email ada@example.com --reason "request by mail 2026-12-01"')
    .action(async (integration: string, o: EraseOpts) => {
      if (!o.customer === !o.email) throw new CliError('give exactly one of --customer <cus_id> or --email <address>', 2);
      if (!o.reason?.trim()) throw new CliError('--reason is required: say why the customer is erased (it is kept with the erasure)', 2);
      const body = { ...(o.customer ? { customerId: o.customer } : { email: o.email }), reason: o.reason };
      let r: ErasureResult;
      try {
        r = await createAdminApi(ctx.env(apiEnv)).call<ErasureResult>('POST', `/v1/integrations/${encodeURIComponent(integration)}/customers/erase`, body);
      } catch (err) {
        if (err instanceof ApiError) throw new CliError(err.message, 1, err.body);
        throw err;
      }
      ctx.print(r, () => `${r.alreadyErased ? 'already erased (nothing new to record)' : 'erased'}\n${renderFields({
        integration: r.integrationId, customers: r.customerIds.join(', ') || '-',
        attributionRows: r.scrubbed.attributionRows, ledgerRows: r.scrubbed.ledgerRows, heldConversions: r.scrubbed.heldConversions,
      })}`);
    });
};
