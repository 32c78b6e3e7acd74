// Which Redis the service stands on: one URL, a Sentinel-monitored master, or a Cluster, from the REDIS_* variables.

import type { DataNodeAuth, HostPort, RedisTarget } from '../domain/redis-target.js';

export type { HostPort, RedisTarget } from '../domain/redis-target.js';

/** Raw values by variable name (after `_FILE` is read and Ajv applied defaults); undefined when unset. */
export type Lookup = (name: string) => string | undefined;

/**
 * The target the variables describe, or undefined when none of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES is
 * set (the embedded Redis). Problems go to `problems`, naming the variable and the offending entry, never a secret.
 */
export function redisTarget(get: Lookup, problems: string[]): RedisTarget | undefined {
  const url = get('REDIS_URL');
  const sentinels = get('REDIS_SENTINELS');
  const cluster = get('REDIS_CLUSTER_NODES');
  if (sentinels !== undefined && cluster !== undefined) {
    problems.push('REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set; a Redis is either monitored by sentinels or a cluster: set one');
    return undefined;
  }
  if (get('REDIS_SENTINEL_PASSWORD') !== undefined && sentinels === undefined) {
    problems.push('REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS');
  }
  if (sentinels === undefined && cluster === undefined) return url === undefined ? undefined : { kind: 'single', url };
  const auth = url === undefined ? {} : dataNodeAuth(url, problems);
  if (auth === undefined) return undefined;
  if (cluster !== undefined) {
    const nodes = hostPorts('REDIS_CLUSTER_NODES', cluster, problems);
    if (auth.db !== undefined && auth.db !== 0) problems.push(`REDIS_URL names database ${auth.db}, but a Redis Cluster has only database 0`);
    return nodes && { kind: 'cluster', nodes, ...withoutDb(auth) };
  }
  const list = hostPorts('REDIS_SENTINELS', sentinels!, problems);
  const sentinelPassword = get('REDIS_SENTINEL_PASSWORD');
  const name = get('REDIS_SENTINEL_MASTER') ?? 'mymaster';
  return list && { kind: 'sentinel', sentinels: list, name, ...(sentinelPassword === undefined ? {} : { sentinelPassword }), ...auth };
}

/**
 * REDIS_MIN_REPLICAS_ACK: how many replicas must acknowledge an intake write before `204`. `auto` (unset): 1 when
 * the master has a connected replica, 0 otherwise, decided against the running master.
 */
export function minReplicasAck(get: Lookup): number | 'auto' {
  const value = get('REDIS_MIN_REPLICAS_ACK');
  return value === undefined ? 'auto' : Number(value);
}

function withoutDb({ password, username, tls }: DataNodeAuth): DataNodeAuth {
  return { ...(password === undefined ? {} : { password }), ...(username === undefined ? {} : { username }), ...(tls ? { tls } : {}) };
}

/** `host:port`, `[v6]:port`; the port is required (no guess between 6379 and 26379). */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

function hostPorts(name: string, value: string, problems: string[]): HostPort[] | undefined {
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const out: HostPort[] = [];
  let ok = entries.length > 0;
  if (!ok) problems.push(`${name}: expected a comma-separated list of host:port`);
  for (const entry of entries) {
    const m = HOST_PORT.exec(entry);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535) {
      problems.push(`${name}: "${entry}" is not host:port (e.g. redis-sentinel-1:26379, [::1]:26379)`);
      ok = false;
    } else {
      out.push(Object.freeze({ host: m[1] ?? m[2]!, port }));
    }
  }
  return ok ? out : undefined;
}

/** The password, user name, TLS and database of REDIS_URL, whose host is not used beside sentinels or a cluster. */
function dataNodeAuth(url: string, problems: string[]): (DataNodeAuth & { readonly db?: number }) | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // urlProblem() already reported it, without quoting the secret
  }
  const path = parsed.pathname.replace(/^\//, '');
  const db = path === '' ? undefined : Number(path);
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    problems.push('REDIS_URL: the path must be a database number');
    return undefined;
  }
  return {
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.protocol === 'rediss:' ? { tls: true as const } : {}),
    ...(db === undefined ? {} : { db }),
  };
}
