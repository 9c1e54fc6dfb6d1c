export type { DemoSummary } from './demo/demo-state.js';
export { percentile } from './demo/percentile.js';
export { type DemoOptions, runDemo } from './demo/run-demo.js';
export { loadCommands, main } from './main.js';
