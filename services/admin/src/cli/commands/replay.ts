import type { RegisterCommands } from '../context.js';

// Scaffold: the issue 7 work adds these commands.
export const registerReplayCommands: RegisterCommands = () => {};
