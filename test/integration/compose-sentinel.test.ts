// docker-compose.sentinel.yml's Redis on real redis-server processes (there is no Docker where the tests run): the
// configuration its entrypoints give the data nodes and write for the sentinels, with loopback addresses and free
// ports in place of the compose host names, makes a group that fails a SIGKILLed master over, every password in place.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/runtime/free-port.js';
import { readYaml } from '../support/deploy-files.js';
import { eventually } from '../support/service.js';

const compose = readYaml<{ services: Record<string, { entrypoint: string[] }> }>('docker-compose.sentinel.yml');
const script = (service: string): string => compose.services[service]?.entrypoint[2] ?? '';
/** The first here-document of an entrypoint: the configuration it hands to redis-server or writes for a sentinel. */
const heredoc = (text: string): string => /<<EOF\n([\s\S]*?)\nEOF\n/.exec(text)?.[1] ?? '';

const PASSWORD = 'data-node-password-for-this-test';
const SENTINEL_PASSWORD = 'sentinel-password-for-this-test';
const HOST = '127.0.0.1';

/** What the shell would expand in the compose file (`$$` is compose's escape for `$`), plus our host names and ports. */
function render(text: string, vars: { node?: string; role?: string; ports: Record<string, number> }): string {
  let out = text
    .replaceAll('$$(cat /run/secrets/redis_password)', PASSWORD)
    .replaceAll('$$(cat /run/secrets/redis_sentinel_password)', SENTINEL_PASSWORD)
    .replaceAll('$$NODE_NAME', vars.node ?? HOST)
    .replaceAll('$$role', vars.role ?? '');
  for (const [name, port] of Object.entries(vars.ports)) out = out.replace(new RegExp(`^port ${name}$`, 'm'), `port ${port}`).replaceAll(`${name} 6379`, `${HOST} ${port}`);
  return out;
}

const children: ChildProcess[] = [];
const clients: Redis[] = [];
let dir: string;

function redisServer(args: readonly string[], stdin?: string): ChildProcess {
  const child = spawn('redis-server', args, { cwd: dir, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
  if (stdin !== undefined) child.stdin?.end(stdin);
  children.push(child);
  return child;
}

function client(port: number, password: string): Redis {
  const c = new Redis({ host: HOST, port, password, maxRetriesPerRequest: 1, retryStrategy: () => 200, disconnectTimeout: 100 });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trapi-compose-sentinel-'));
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => {
    c.once('exit', r);
    c.kill('SIGKILL');
  })));
  rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose.sentinel.yml, its Redis configuration on redis-server', () => {
  it('a master, a replica and three sentinels find each other with their passwords; a SIGKILLed master fails over to the replica, which keeps the writes', async () => {
    const [master, replica, ...sentinels] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    const ports = { 'redis-master': master!, 'redis-replica': replica! };
    const node = script('redis-master');
    // The exec line's own options (durability, eviction), as the container runs them.
    const options = /exec redis-server - (.*) <<EOF/.exec(node)?.[1]?.split(' ').map((o) => (o === '""' ? '' : o)) ?? [];
    expect(options).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    const dataNode = (port: number, role: string) => {
      const config = render(heredoc(node), { role, ports });
      expect(config).not.toContain('$');
      redisServer(['-', ...options, '--port', String(port), '--bind', HOST, '--dir', dir, '--appendfilename', `appendonly-${port}.aof`, '--appenddirname', `aof-${port}`], config);
    };
    dataNode(master!, '');
    dataNode(replica!, `replicaof ${HOST} ${master}`);
    const sentinelConfig = heredoc(script('sentinel-1'));
    const name = /^sentinel monitor (\S+) /m.exec(sentinelConfig)?.[1] ?? '';
    for (const port of sentinels) {
      const conf = join(dir, `sentinel-${port}.conf`);
      const text = render(sentinelConfig, { ports: { ...ports, 26379: port! } });
      expect(text).not.toContain('$');
      writeFileSync(conf, `${text}\n`, { mode: 0o600 });
      redisServer([conf, '--sentinel', '--bind', HOST]);
    }

    const onMaster = client(master!, PASSWORD);
    const onReplica = client(replica!, PASSWORD);
    await eventually(async () => (await onReplica.info('replication').catch(() => '')).includes('master_link_status:up'), 'the replica in sync (masterauth)', 30_000);
    const asked = sentinels.map((p) => client(p!, SENTINEL_PASSWORD));
    const sees = async (s: Redis) => {
      const peers = (await s.call('SENTINEL', 'SENTINELS', name)) as unknown[];
      const replicas = (await s.call('SENTINEL', 'REPLICAS', name)) as string[][];
      return peers.length === 2 && replicas.length === 1;
    };
    await eventually(async () => (await Promise.all(asked.map((s) => sees(s).catch(() => false)))).every(Boolean), 'three sentinels seeing each other (their password) and the replica (auth-pass)', 30_000);

    await onMaster.set('written-before-the-failover', 'kept');
    expect(await onMaster.wait(1, 2000)).toBe(1);
    children[0]?.kill('SIGKILL');
    const named = async () => ((await asked[0]!.call('SENTINEL', 'get-master-addr-by-name', name)) as string[])[1];
    await eventually(async () => (await named().catch(() => undefined)) === String(replica), 'the sentinels naming the replica as master', 45_000);
    await eventually(async () => (await onReplica.info('replication').catch(() => '')).includes('role:master'), 'the replica promoted', 15_000);
    expect(await onReplica.get('written-before-the-failover')).toBe('kept');
  }, 90_000);
});
