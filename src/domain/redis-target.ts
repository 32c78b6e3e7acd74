// Where the service's data lives, as every room sees it: the Config builds it (src/config/redis-target.ts) from the
// REDIS_* variables, and the queue opens its connections to it (src/queue/redis.ts). Data only: no client, no package.

/** One `host:port` of a sentinel or a cluster seed node. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Credentials and transport of the data nodes, taken from REDIS_URL when a sentinel group or a cluster is set. */
export interface DataNodeAuth {
  readonly password?: string;
  readonly username?: string;
  /** `rediss://`: TLS to the data nodes (with the system's CAs). */
  readonly tls?: true;
}

/**
 * Where the data lives. `single`: one Redis at `url` (REDIS_URL, or the embedded one). `sentinel`: the master the
 * sentinels name `name`, followed through a failover. `cluster`: the cluster these seed nodes belong to.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | ({ readonly kind: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly name: string; readonly sentinelPassword?: string; readonly db?: number } & DataNodeAuth)
  | ({ readonly kind: 'cluster'; readonly nodes: readonly HostPort[] } & DataNodeAuth);
