// Entry of the bundled CLI (dist/sas/main.js): `node dist/sas/main.js <command>`.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
