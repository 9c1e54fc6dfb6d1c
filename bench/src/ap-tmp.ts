import { mkdtempSync } from 'node:fs';
import { appendBench } from './append.bench.js';
import { printResult } from './report.js';

const d = mkdtempSync('/tmp/ap-');
printResult(await appendBench(d, 'enroll', 'FULL'));
printResult(await appendBench(d, 'insert-only', 'FULL'));
printResult(await appendBench(d, 'enroll', 'NORMAL'));
