import { runTransportConformance } from '@sluice/testing';
import { deleteNamespace, freshNamespace, testBrokerUrl } from './kafka.test-support.js';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const url = testBrokerUrl();
// The broker's group.min.session.timeout.ms is Kafka's default, 6000 ms.
const sessionTimeoutMs = 6000;
const maxPayloadBytes = 1_000_000;

runTransportConformance(
  'kafka',
  async () => {
    const namespace = freshNamespace();
    const open = (extra: { staticMembership?: boolean } = {}) =>
      createKafkaTransport({ url, namespace, sessionTimeoutMs, maxPayloadBytes, ...extra });
    return {
      transport: await open(),
      reopen: () => open(),
      // The crash case's other process: static members (KIP-345) send no LeaveGroup when their client goes
      // away, so the coordinator sees a member that stopped heartbeating.
      connect: () => open({ staticMembership: true }),
      crash: (t) => (t as KafkaTransport).abandon(),
      cleanup: () => deleteNamespace(url, namespace),
    };
  },
  { sessionTimeoutMs, maxPayloadBytes },
);
