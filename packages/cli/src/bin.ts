#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Close the IPC channel (when run by a parent) so the process can exit.
if (process.connected) process.disconnect();
