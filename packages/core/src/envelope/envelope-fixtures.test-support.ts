import type { Envelope } from './envelope.js';

/** An envelope with every attribute Sluice writes, data with quotes, non-ASCII text, arrays and a null. */
export const fullEnvelope: Envelope = {
  specversion: '1.0',
  id: '0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d',
  source: 'urn:service:enrollments',
  type: 'enrollment.created',
  time: '2024-06-30T12:34:56.789Z',
  subject: 'C-42',
  datacontenttype: 'application/json',
  dataschema: 'urn:sluice:contract:enrollment.created:v1',
  partitionkey: 'C-42',
  sluiceseq: 7,
  sluiceseqkind: 'counter',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  correlationid: 'corr-1',
  causationid: 'cmd-9',
  data: { courseId: 'C-42', student: { name: 'Zoë "Z" Ünal', tags: ['a', 'b'] }, seats: 3, note: null },
};

/** {@link fullEnvelope} without the optional context attributes nor the sequence kind. */
export const minimalEnvelope: Envelope = (() => {
  const { traceparent: _t, correlationid: _c, causationid: _k, sluiceseqkind: _s, ...rest } = fullEnvelope;
  return rest;
})();
