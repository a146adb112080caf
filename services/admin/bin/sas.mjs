#!/usr/bin/env node
// The project's one command line. Runs the TypeScript source through tsx (a dev dependency
// of the repository); `npm run build` also bundles it as dist/sas/main.js.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
