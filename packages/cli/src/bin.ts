#!/usr/bin/env node
import { main } from './main.js';

// `sluice tail ... | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Close the IPC channel (when run by a parent) so the process can exit.
if (process.connected) process.disconnect();
