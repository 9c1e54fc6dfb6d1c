import { Parser } from '@asyncapi/parser';
import { toAsyncApi } from './packages/core/src/contracts/export/asyncapi.ts';
import * as e from './examples/enrollments/src/contracts.ts';
const doc: any = toAsyncApi([...e.enrollmentContracts], { title: 't', version: '1.0.0' });
doc.components.messages['enrollment.progressed.v1'].examples[0].payload.data.progress = 'x';
doc.channels.enrollments.bindings.kafka.partitions = 0;
const diags = await new Parser().validate(JSON.stringify(doc));
for (const d of diags) console.log(d.severity, d.code, d.message, d.path.join('/'));
console.log(JSON.stringify(doc.components.messages['enrollment.created.v1'].examples,null,1));
