// The readiness policy behind GET /readyz: what makes a process not ready, and what only degrades it.
import type { Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { BreakerState, CredentialBreakers } from '../../providers/contract.js';
import type { Readiness } from '../domain/ports.js';
import { nodeOfKeys } from '../keys.js';

/**
 * Not ready: Redis down or the worker stopped. Degraded but ready: a credential refused (tokens are still accepted and
 * held). "Redis down" means no master holding our keys answers: behind sentinels, while the connection has not yet
 * reached the promoted replica; on a cluster, while no master serves our slot.
 */
export async function checkReadiness(redis: Redis | Cluster, worker: Worker | undefined, breakers: CredentialBreakers): Promise<Readiness> {
  const redisOk = await nodeOfKeys(redis).then((node) => node.ping()).then(() => true, () => false);
  const checks: Record<string, string> = { redis: redisOk ? 'ok' : 'unreachable' };
  if (worker) checks['worker'] = worker.isRunning() && !worker.closing ? 'running' : 'stopped';
  const open: Readonly<Record<string, BreakerState>> = redisOk ? await breakers.states().catch(() => ({})) : {};
  for (const [name, state] of Object.entries(open)) checks[`credential:${name}`] = `${name.endsWith(':rotation') ? 'cannot be rotated' : 'refused'} since ${state.since} (${state.reason})`;
  return { ready: redisOk && (worker === undefined || checks['worker'] === 'running'), degraded: Object.keys(open).length > 0, checks };
}
