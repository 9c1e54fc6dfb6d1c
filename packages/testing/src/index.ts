export {
  runTransportConformance,
  type TransportConformanceOptions,
  type TransportHarness,
} from './transport-conformance.js';
