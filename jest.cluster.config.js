// `npm run test:cluster`: a representative subset of the suites again, on a Redis Cluster (TEST_REDIS=cluster: each
// suite's Redis is three masters with a replica each, test/support/cluster-redis.ts; the service gets
// REDIS_CLUSTER_NODES). `npm test` runs them, and every other suite, on one redis-server.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: [
    // GitLab's endpoints end to end: intake (the WAIT gate on the master of our slot), fan-out, revocation, readiness.
    '<rootDir>/test/integration/api.test.ts',
    // Resends and two API replicas on one cluster: one job, one revocation per token.
    '<rootDir>/test/integration/idempotency.test.ts',
    // GitLab failing, throttling and refusing credentials, with worker processes (dist/) on the cluster.
    '<rootDir>/test/integration/faults.test.ts',
    // Lua scripts over several keys (next slot, leases): one slot by the hash tag.
    '<rootDir>/test/integration/outbound-limiter.test.ts',
    // The shared rate-limit budget; "Redis down and back" is our master's failover to its replica.
    '<rootDir>/test/integration/budget-store.test.ts',
  ],
};
