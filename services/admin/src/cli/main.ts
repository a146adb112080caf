import { Command, CommanderError } from 'commander';
import { CliError, createContext, type RegisterCommands } from './context.js';
import { registerIntegrationCommands } from './commands/integrations.js';
import { registerStripeCommands } from './commands/stripe.js';
import { registerBackfillCommands } from './commands/backfill.js';
import { registerReplayCommands } from './commands/replay.js';
import { registerDlqCommands } from './commands/dlq.js';
import { registerStatusCommands } from './commands/status.js';
import { registerCustomerCommands } from './commands/customers.js';

const modules: RegisterCommands[] = [
  registerIntegrationCommands, registerStripeCommands, registerBackfillCommands,
  registerReplayCommands, registerDlqCommands, registerStatusCommands, registerCustomerCommands,
];

export const buildProgram = (): { program: Command; ctx: ReturnType<typeof createContext> } => {
  const program = new Command('sas')
    .description('Operate stripe-affiliate-stream: integrations, Stripe setup, backfill, replay, dead letters, status, customer erasure')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .showHelpAfterError()
    .exitOverride();
  const ctx = createContext(program);
  for (const register of modules) register(program, ctx);
  // Every subcommand inherits exitOverride, so errors come back here instead of exiting.
  const inherit = (c: Command) => { c.exitOverride(); c.commands.forEach(inherit); };
  inherit(program);
  return { program, ctx };
};

/** Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration. */
export const runCli = async (argv: string[]): Promise<number> => {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    if (ctx.json()) {
      process.stderr.write(`${JSON.stringify({ error: message, ...(err instanceof CliError && err.details !== undefined ? { details: err.details } : {}) })}\n`);
    } else {
      process.stderr.write(`sas: ${message}\n`);
    }
    return exitCode;
  }
};
