// The deployment files hold to the code: every variable they set exists (a `_FILE` only where the variable reads
// files), no secret is an environment value or an argument, probes and ports are the service's, grace periods outlast
// SHUTDOWN_TIMEOUT_SECONDS; and the repository files (LICENSE, SECURITY.md, CHANGELOG.md) say what package.json says.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOf, isSecret, read, readYaml, readYamlFolder, ROOT, variableProblem } from '../support/deploy-files.js';

/** The service may take SHUTDOWN_TIMEOUT_SECONDS for in-flight work, then at most 5 s more (variables.ts). */
const FORCED_CLOSE_SECONDS = 5;
const pkg = JSON.parse(read('package.json')) as { license: string; version: string };

/** A value that looks like a credential itself rather than a reference to one (a path, a URL without userinfo, a word). */
const looksSecret = (value: string): boolean => /[A-Za-z0-9+/=_-]{24,}/.test(value.replace(/^(%d)?\/[\w./-]+$/, '')) || /:\/\/[^/\s]*:[^/\s]*@/.test(value) || /\$\{?[A-Z_]*(PASSWORD|TOKEN|KEY|SECRET)/.test(value);

/** Problems of one set of environment variables: unknown names, secrets given as values. */
function envProblems(env: Record<string, unknown>, where: string): string[] {
  return Object.entries(env).flatMap(([name, value]) => {
    const problems: string[] = [];
    const wrong = variableProblem(name);
    if (wrong) problems.push(`${where}: ${wrong}`);
    if (isSecret(name)) problems.push(`${where}: secret ${name} set as a value; use ${name}_FILE`);
    if (looksSecret(String(value))) problems.push(`${where}: ${name} looks like a secret value`);
    return problems;
  });
}

type Container = {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; secret?: unknown; emptyDir?: unknown }[];
};
type Labels = Record<string, string>;
type K8s = { file: string; kind: string; name: string; spec: Record<string, unknown>; data?: Record<string, string> };

describe('deploy/kubernetes', () => {
  const docs: K8s[] = readYamlFolder('deploy/kubernetes').map(({ file, doc }) => ({
    file,
    kind: String(doc['kind']),
    name: String((doc['metadata'] as { name?: string } | undefined)?.name),
    spec: (doc['spec'] ?? {}) as Record<string, unknown>,
    ...(doc['data'] ? { data: doc['data'] as Record<string, string> } : {}),
  }));
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  const configMap = docs.find((d) => d.kind === 'ConfigMap')?.data ?? {};
  const pod = (d: K8s) => (d.spec['template'] as { spec: PodSpec; metadata: { labels: Labels } });
  const container = (d: K8s) => pod(d).spec.containers[0] as Container;
  const roleOf = (d: K8s) => container(d).env?.find((e) => e.name === 'ROLE')?.value;
  const port = Number(configMap['PORT'] ?? defaultOf('PORT'));
  const shutdown = Number(configMap['SHUTDOWN_TIMEOUT_SECONDS'] ?? defaultOf('SHUTDOWN_TIMEOUT_SECONDS'));
  const selects = (selector: Labels, labels: Labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('names Sentinel and Cluster: the commented-out settings to uncomment are variables the service reads, no secret a value', () => {
    const commented = ['configmap.yaml', 'api.yaml', 'worker.yaml'].flatMap((f) =>
      [...read(`deploy/kubernetes/${f}`).matchAll(/^\s*# (?:- name: )?([A-Z][A-Z0-9_]+)(?:: (.*))?$/gm)].map((m) => [m[1] ?? '', m[2] ?? ''] as const),
    );
    const names = commented.map(([name]) => name);
    expect(names).toEqual(expect.arrayContaining(['REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD_FILE', 'REDIS_CLUSTER_NODES', 'REDIS_MIN_REPLICAS_ACK']));
    expect(envProblems(Object.fromEntries(commented), 'commented out')).toEqual([]);
    expect(read('deploy/kubernetes/kustomization.yaml')).toContain('--from-file=redis-sentinel-password=');
  });

  it('kustomization.yaml lists every manifest of the folder', () => {
    const kustomization = readYaml<{ resources: string[] }>('deploy/kubernetes/kustomization.yaml');
    const manifests = readdirSync(join(ROOT, 'deploy/kubernetes')).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
  });

  it('has an API and a worker Deployment (ROLE=api, ROLE=worker) of the same image', () => {
    expect(deployments.map(roleOf).sort()).toEqual(['api', 'worker']);
    expect(new Set(deployments.map((d) => container(d).image)).size).toBe(1);
  });

  it.each(['api', 'worker'])('the %s probes /-/liveness and /-/readiness on the port it listens on (PORT)', (role) => {
    const c = container(deployments.find((d) => roleOf(d) === role) as K8s);
    const http = c.ports?.find((p) => p.containerPort === port);
    expect(http).toBeDefined();
    expect(c.livenessProbe?.httpGet?.path).toBe('/-/liveness');
    expect(c.readinessProbe?.httpGet?.path).toBe('/-/readiness');
    for (const probe of [c.livenessProbe, c.readinessProbe]) expect([http?.name, port]).toContain(probe?.httpGet?.port);
  });

  it('every variable set (env and the ConfigMap) is one the service reads; secrets only as *_FILE, files of the mounted Secret', () => {
    const problems = envProblems(configMap, 'ConfigMap');
    for (const d of deployments) {
      const c = container(d);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
      problems.push(...envProblems(env, d.name));
      const secretMounts = (c.volumeMounts ?? []).filter((m) => pod(d).spec.volumes?.find((v) => v.name === m.name)?.secret).map((m) => m.mountPath);
      for (const [name, value] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
        if (!secretMounts.some((dir) => value.startsWith(`${dir}/`))) problems.push(`${d.name}: ${name}=${value} is not in a mounted Secret`);
      }
      for (const required of ['REVOCATION_API_TOKENS_FILE', 'TOKEN_ENCRYPTION_KEY_FILE', 'REDIS_URL_FILE']) if (!(required in env)) problems.push(`${d.name}: no ${required}`);
      if (!(c.envFrom ?? []).some((e) => e.configMapRef?.name === docs.find((x) => x.kind === 'ConfigMap')?.name)) problems.push(`${d.name}: does not read the ConfigMap`);
    }
    expect(problems).toEqual([]);
  });

  it.each(['api', 'worker'])('the %s runs as non-root on a read-only root filesystem, /tmp an emptyDir, with requests and limits', (role) => {
    const d = deployments.find((x) => roleOf(x) === role) as K8s;
    const spec = pod(d).spec;
    const c = container(d);
    expect(spec.securityContext?.['runAsNonRoot'] ?? c.securityContext?.['runAsNonRoot']).toBe(true);
    expect(c.securityContext?.['readOnlyRootFilesystem']).toBe(true);
    expect(c.securityContext?.['allowPrivilegeEscalation']).toBe(false);
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    for (const kind of ['requests', 'limits'] as const) expect(Object.keys(c.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it.each(['api', 'worker'])('the %s pod\'s grace period outlasts SHUTDOWN_TIMEOUT_SECONDS, the forced close and any preStop pause', (role) => {
    const d = deployments.find((x) => roleOf(x) === role) as K8s;
    const command = container(d).lifecycle?.preStop?.exec?.command ?? [];
    const pause = command[0] === 'sleep' ? Number(command[1]) : 0;
    expect(pod(d).spec.terminationGracePeriodSeconds).toBeGreaterThan(shutdown + FORCED_CLOSE_SECONDS + pause);
  });

  it('the Service routes to the API pods only, on their http port; a PodDisruptionBudget covers each Deployment', () => {
    const services = docs.filter((d) => d.kind === 'Service');
    expect(services).toHaveLength(1);
    const svc = services[0] as K8s;
    const selector = svc.spec['selector'] as Labels;
    expect(deployments.filter((d) => selects(selector, pod(d).metadata.labels)).map(roleOf)).toEqual(['api']);
    const targets = (svc.spec['ports'] as { targetPort: string | number }[]).map((p) => p.targetPort);
    const api = container(deployments.find((d) => roleOf(d) === 'api') as K8s);
    for (const t of targets) expect([api.ports?.[0]?.name, port]).toContain(t);
    const budgets = docs.filter((d) => d.kind === 'PodDisruptionBudget').map((d) => (d.spec['selector'] as { matchLabels: Labels }).matchLabels);
    for (const d of deployments) expect(budgets.filter((b) => selects(b, pod(d).metadata.labels))).toHaveLength(1);
  });

  it('NetworkPolicies let only named peers (GitLab, Prometheus) reach the pods, on their http port only', () => {
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
    for (const d of deployments) {
      const mine = policies.filter((p) => selects((p.spec['podSelector'] as { matchLabels: Labels }).matchLabels, pod(d).metadata.labels));
      expect(mine.length).toBeGreaterThan(0);
      for (const p of mine) {
        expect(p.spec['policyTypes']).toContain('Ingress');
        for (const rule of p.spec['ingress'] as { from?: unknown[]; ports?: { port: unknown }[] }[]) {
          expect(rule.from?.length).toBeGreaterThan(0); // a rule without `from` admits everyone
          expect(rule.ports?.map((x) => x.port)).toEqual([container(d).ports?.[0]?.name]);
        }
      }
      const peers = mine.flatMap((p) => (p.spec['ingress'] as { from: unknown[] }[]).flatMap((r) => r.from)).map((f) => JSON.stringify(f));
      expect(peers.some((f) => f.includes('prometheus'))).toBe(true);
      expect(peers.some((f) => f.includes('sidekiq'))).toBe(roleOf(d) === 'api'); // GitLab reaches the API, never a worker
    }
  });
});

describe('docker-compose.yml', () => {
  type Service = {
    image?: string;
    build?: unknown;
    command?: unknown;
    entrypoint?: unknown;
    environment?: Record<string, string>;
    healthcheck?: { test: unknown };
    ports?: string[];
    secrets?: string[];
    stop_grace_period?: string;
    env_file?: string;
  };
  const compose = readYaml<{ services: Record<string, Service>; secrets: Record<string, { file: string }> }>('docker-compose.yml');
  const { redis, api, worker } = compose.services as Record<'redis' | 'api' | 'worker', Service>;
  const seconds = (d: string | undefined) => Number(/^(\d+)s$/.exec(d ?? '')?.[1]);

  it('api and worker are one image (ROLE chooses), built from the Dockerfile', () => {
    expect(api.image).toBeDefined();
    expect(worker.image).toBe(api.image);
    expect(api.environment?.['ROLE']).toBe('api');
    expect(worker.environment?.['ROLE']).toBe('worker');
    expect(api.build).toBe('.');
  });

  it('every variable set is one the service reads; secrets only as *_FILE, each a compose secret of the service', () => {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries({ api, worker })) {
      problems.push(...envProblems(svc.environment ?? {}, name));
      for (const [variable, path] of Object.entries(svc.environment ?? {}).filter(([n]) => n.endsWith('_FILE'))) {
        const secret = /^\/run\/secrets\/([\w-]+)$/.exec(path)?.[1];
        if (!secret || !svc.secrets?.includes(secret)) problems.push(`${name}: ${variable}=${path} is not a secret the service mounts`);
      }
      for (const s of svc.secrets ?? []) if (!compose.secrets[s]?.file) problems.push(`${name}: secret ${s} is not defined with a file`);
    }
    expect(problems).toEqual([]);
  });

  it('no secret is in an environment, a command line or a healthcheck: Redis reads its password from the secret file', () => {
    expect(redis.environment).toBeUndefined();
    for (const svc of [redis, api, worker]) {
      const lines = JSON.stringify([svc.command, svc.entrypoint, svc.healthcheck?.test]);
      expect(lines).not.toMatch(/--requirepass|redis-cli[^"]* -a |\$\{?[A-Z_]*(PASSWORD|TOKEN|KEY)/);
    }
    // `$$` is compose's escape: the shell sees $(cat ...) and compose interpolates nothing.
    expect(JSON.stringify(redis.entrypoint)).toMatch(/redis-server - .*<<EOF\\nrequirepass \$\$\(cat \/run\/secrets\/redis_password\)\\nEOF/);
    expect(redis.secrets).toEqual(['redis_password']);
    // The secret files live under data/, which git and the Docker build context ignore.
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.\/data\/secrets\//);
    for (const ignore of ['.gitignore', '.dockerignore']) expect(read(ignore)).toMatch(/^data\/?$/m);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('gives api and worker a stop_grace_period beyond SHUTDOWN_TIMEOUT_SECONDS and the forced close', () => {
    for (const svc of [api, worker]) expect(seconds(svc.stop_grace_period)).toBeGreaterThan(defaultOf('SHUTDOWN_TIMEOUT_SECONDS') + FORCED_CLOSE_SECONDS);
  });

  it('pins its base images to a patch release (Redis here, Node.js in the Dockerfile)', () => {
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+-bookworm$/);
    const from = [...read('Dockerfile').matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThan(0);
    for (const image of from) expect(image).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
  });

  it('.env.example names only known variables, sets no secret, and says how to generate each secret file', () => {
    const text = read('.env.example');
    const names = [...text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? '');
    expect(names.length).toBeGreaterThan(10);
    expect(names.flatMap((n) => variableProblem(n) ?? [])).toEqual([]);
    expect(names.filter(isSecret)).toEqual([]);
    expect(text).toMatch(/openssl rand -hex 32 .*> data\/secrets\/redis_password/);
    for (const s of [...(api.secrets ?? []), ...(redis.secrets ?? [])]) expect(text).toContain(`> data/secrets/${s}`);
    expect(api.env_file).toBe('.env');
  });
});

describe('docker-compose.sentinel.yml', () => {
  type Service = {
    image?: string;
    build?: unknown;
    entrypoint?: string[];
    environment?: Record<string, string>;
    healthcheck?: { test: unknown };
    ports?: string[];
    secrets?: string[];
    stop_grace_period?: string;
    env_file?: string;
    depends_on?: Record<string, { condition: string }>;
    volumes?: string[];
  };
  const compose = readYaml<{ services: Record<string, Service>; secrets: Record<string, { file: string }> }>('docker-compose.sentinel.yml');
  const single = readYaml<{ services: Record<string, Service> }>('docker-compose.yml').services;
  const services = compose.services;
  const { api, worker } = services as Record<'api' | 'worker', Service>;
  const dataNodes = ['redis-master', 'redis-replica'];
  const sentinels = Object.keys(services).filter((n) => n.startsWith('sentinel-'));
  const script = (name: string) => (services[name]?.entrypoint ?? []).join('\n');
  const seconds = (d: string | undefined) => Number(/^(\d+)s$/.exec(d ?? '')?.[1]);
  /** The master group the sentinels monitor: `sentinel monitor <name> <host> <port> <quorum>` of their generated config. */
  const monitor = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(script('sentinel-1'));

  it('runs a master, one replica and three sentinels (quorum 2) monitoring the master, beside the API and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', ...dataNodes, ...sentinels, 'worker'].sort());
    expect(sentinels).toHaveLength(3);
    expect(monitor?.slice(2)).toEqual(['redis-master', '6379', '2']);
    for (const s of sentinels) {
      expect(script(s)).toBe(script('sentinel-1')); // one definition (the YAML anchor): they cannot drift apart
      expect(services[s]?.environment).toEqual({ NODE_NAME: s });
      expect(script(s)).toMatch(/exec redis-server "\$\$conf" --sentinel$/m);
      // The sentinels rewrite their file with what they learnt (the promoted master): it must outlive the container.
      expect(services[s]?.volumes).toEqual([`${s}-data:/data`]);
    }
    for (const n of dataNodes) {
      expect(services[n]?.environment).toEqual({ NODE_NAME: n });
      expect(services[n]?.volumes).toEqual([`${n}-data:/data`]);
      // Durable as the single Redis of docker-compose.yml; each may be master or replica, so each has masterauth.
      expect(script(n)).toContain('exec redis-server - --appendonly yes --appendfsync always --save "" --maxmemory-policy noeviction <<EOF');
      expect(script(n)).toContain('masterauth $$(cat /run/secrets/redis_password)');
      expect(script(n)).toContain(`SENTINEL get-master-addr-by-name ${monitor?.[1]}`);
    }
    // Whichever node the sentinels name is the master; any other replicates from it. Unasked (first start): redis-master.
    expect(script('redis-replica')).toMatch(/\[ "\$\$master" = "\$\$NODE_NAME" \] \|\| role="replicaof \$\$master 6379"/);
    expect(script('redis-replica')).toContain('[ -n "$$master" ] || master=redis-master');
  });

  it('the API and the worker find the master through every sentinel, by the name they monitor, and require one replica', () => {
    for (const svc of [api, worker]) {
      const env = svc.environment ?? {};
      expect(env['REDIS_SENTINELS']?.split(',').sort()).toEqual(sentinels.map((s) => `${s}:26379`).sort());
      expect(env['REDIS_SENTINEL_MASTER']).toBe(monitor?.[1]);
      expect(env['REDIS_MIN_REPLICAS_ACK']).toBe('1');
      expect(env).not.toHaveProperty(['REDIS_CLUSTER_NODES']);
      expect(env['REDIS_SENTINEL_PASSWORD_FILE']).toBe('/run/secrets/redis_sentinel_password');
      expect(Object.keys(svc.depends_on ?? {}).sort()).toEqual(sentinels);
      for (const d of Object.values(svc.depends_on ?? {})) expect(d.condition).toBe('service_healthy');
    }
  });

  it('api and worker are the image of docker-compose.yml (ROLE chooses), built from the Dockerfile', () => {
    expect(api.image).toBe(single['api']?.image);
    expect(worker.image).toBe(api.image);
    expect([api.environment?.['ROLE'], worker.environment?.['ROLE']]).toEqual(['api', 'worker']);
    expect(api.build).toBe('.');
  });

  it('every variable set is one the service reads; secrets only as *_FILE, each a compose secret of the service', () => {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      problems.push(...envProblems(svc.environment ?? {}, name));
      for (const [variable, path] of Object.entries(svc.environment ?? {}).filter(([n]) => n.endsWith('_FILE'))) {
        const secret = /^\/run\/secrets\/([\w-]+)$/.exec(path)?.[1];
        if (!secret || !svc.secrets?.includes(secret)) problems.push(`${name}: ${variable}=${path} is not a secret the service mounts`);
      }
      for (const s of svc.secrets ?? []) if (!compose.secrets[s]?.file) problems.push(`${name}: secret ${s} is not defined with a file`);
    }
    // NODE_NAME is the Redis containers' own, read by their entrypoint, not the service's.
    expect(problems.filter((p) => !/^(redis-|sentinel-)[\w-]+: NODE_NAME: no such variable/.test(p))).toEqual([]);
  });

  it('no secret is in an environment, a command line or a healthcheck: each redis-server reads its passwords from the secret files', () => {
    for (const [name, svc] of Object.entries(services)) {
      const lines = JSON.stringify([svc.entrypoint, svc.healthcheck?.test]);
      expect([name, lines]).not.toEqual([name, expect.stringMatching(/--requirepass|--masterauth|redis-cli[^"]* -a |\$\{?[A-Z_]*(PASSWORD|TOKEN|KEY)/)]);
    }
    for (const n of dataNodes) {
      // On standard input ("-"), as in docker-compose.yml: `$$` is compose's escape, the shell sees $(cat ...).
      expect(script(n)).toMatch(/redis-server - .*<<EOF\nrequirepass \$\$\(cat \/run\/secrets\/redis_password\)\n/);
      expect(services[n]?.secrets?.sort()).toEqual(['redis_password', 'redis_sentinel_password']);
    }
    for (const s of sentinels) {
      // Into the sentinel's own file (mode 600), which it must be able to rewrite.
      expect(script(s)).toContain('umask 077');
      expect(script(s)).toContain('requirepass $$(cat /run/secrets/redis_sentinel_password)');
      expect(script(s)).toContain(`sentinel auth-pass ${monitor?.[1]} $$(cat /run/secrets/redis_password)`);
    }
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.\/data\/secrets\//);
    const env = read('.env.example');
    for (const s of Object.values(services).flatMap((svc) => svc.secrets ?? [])) expect(env).toContain(`> data/secrets/${s}`);
    expect(api.env_file).toBe('.env');
  });

  it('publishes only the API, on 127.0.0.1; Redis and the sentinels stay on the compose network', () => {
    const published = Object.entries(services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([n]) => n)).toEqual(['api']);
    for (const p of api.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('gives api and worker a stop_grace_period beyond SHUTDOWN_TIMEOUT_SECONDS and the forced close', () => {
    for (const svc of [api, worker]) expect(seconds(svc.stop_grace_period)).toBeGreaterThan(defaultOf('SHUTDOWN_TIMEOUT_SECONDS') + FORCED_CLOSE_SECONDS);
  });

  it('every entrypoint is a script sh parses (the compose escape `$$` read as `$`), its heredocs closed', () => {
    for (const n of [...dataNodes, ...sentinels]) {
      const [shell, flag, body] = services[n]?.entrypoint ?? [];
      expect([shell, flag]).toEqual(['sh', '-c']);
      const parsed = spawnSync('sh', ['-n', '-c', (body ?? '').replace(/\$\$/g, '$')], { encoding: 'utf8' });
      expect([n, parsed.status, parsed.stderr]).toEqual([n, 0, '']);
      expect(body?.match(/<<EOF$/gm)?.length).toBe(body?.match(/^EOF$/gm)?.length);
    }
  });

  it('pins every Redis to the release of docker-compose.yml', () => {
    for (const n of [...dataNodes, ...sentinels]) expect(services[n]?.image).toBe(single['redis']?.image);
  });
});

describe('deploy/systemd/token-revocation-api.service', () => {
  const unit = read('deploy/systemd/token-revocation-api.service');
  const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
  const env = Object.fromEntries(settings('Environment').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

  it('sets only known variables, secrets as *_FILE from its LoadCredential= files', () => {
    expect(envProblems(env, 'unit')).toEqual([]);
    const credentials = settings('LoadCredential').map((c) => c.split(':')[0]);
    for (const [, path] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) expect(credentials.map((c) => `%d/${c}`)).toContain(path);
    for (const required of ['REVOCATION_API_TOKENS_FILE', 'TOKEN_ENCRYPTION_KEY_FILE', 'REDIS_URL_FILE']) expect(env).toHaveProperty([required]);
  });

  it('runs unprivileged and sandboxed, writes only DATA_DIR, restarts on failure, and waits out the shutdown', () => {
    expect(settings('User')).toHaveLength(1);
    expect(settings('User')[0]).not.toMatch(/^(root|0)?$/);
    expect(settings('EnvironmentFile')).toHaveLength(1);
    expect(settings('NoNewPrivileges')).toEqual(['yes']);
    expect(settings('ProtectSystem')).toEqual(['strict']);
    expect(settings('ReadWritePaths')).toEqual([env['DATA_DIR']]);
    expect(settings('Restart')).toEqual(['on-failure']);
    const shutdown = Number(env['SHUTDOWN_TIMEOUT_SECONDS'] ?? defaultOf('SHUTDOWN_TIMEOUT_SECONDS'));
    expect(Number(settings('TimeoutStopSec')[0])).toBeGreaterThan(shutdown + FORCED_CLOSE_SECONDS);
  });
});

describe('repository files', () => {
  it('LICENSE is the license package.json names, for the project\'s authors', () => {
    expect(pkg.license).toBe('MIT');
    const license = read('LICENSE');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toContain('Copyright (c) 2026 the Token Revocation API authors');
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  it('CHANGELOG.md keeps an Unreleased section and one for the version in package.json', () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toContain('[Keep a Changelog]');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });

  it('SECURITY.md gives a (placeholder) private address and the retention of what is stored', () => {
    const security = read('SECURITY.md');
    expect(security).toContain('security@example.com');
    expect(security).toMatch(/placeholder/i);
    for (const name of ['RECORD_RETENTION_DAYS', 'OUTCOME_RETENTION_DAYS']) {
      expect(variableProblem(name)).toBeUndefined();
      expect(security).toContain(name);
    }
  });

  it('the README references every deliverable, and each exists', () => {
    const readme = read('README.md');
    const deliverables = ['deploy/kubernetes/', 'docker-compose.yml', 'docker-compose.sentinel.yml', 'deploy/systemd/token-revocation-api.service', 'deploy/prometheus/alerts.yml', 'deploy/prometheus/alerts.test.yml', 'deploy/prometheus/scrape.yml', 'deploy/grafana/dashboard.json', 'SECURITY.md', 'CHANGELOG.md', 'LICENSE'];
    expect(deliverables.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    expect(deliverables.filter((path) => !readme.includes(`\`${path}\``) && !readme.includes(`(${path})`))).toEqual([]);
  });
});

describe('deploy/grafana/dashboard.json', () => {
  const dashboard = JSON.parse(read('deploy/grafana/dashboard.json')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    templating: { list: { name: string; type: string; query: unknown }[] };
    panels: { id: number; type: string; title: string; gridPos: Record<string, number>; datasource: { type: string; uid: string }; targets: { refId: string; expr: string; datasource: { uid: string } }[] }[];
  };

  it('is a Grafana dashboard model whose panels all query the Prometheus datasource variable', () => {
    expect(dashboard).toMatchObject({ uid: expect.any(String), title: expect.any(String), schemaVersion: expect.any(Number) });
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ query: 'prometheus' });
    const ref = `\${${ds?.name ?? ''}}`;
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: ref });
      expect(Object.keys(p.gridPos).sort()).toEqual(['h', 'w', 'x', 'y']);
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) expect(t).toMatchObject({ refId: expect.any(String), expr: expect.stringMatching(/trapi_/), datasource: { uid: ref } });
    }
  });

  it.each([
    ['intake rate', /rate\(trapi_tokens_received_total/],
    ['time to revoke p50', /histogram_quantile\(0\.5, .*trapi_time_to_revoke_seconds_bucket/],
    ['time to revoke p99', /histogram_quantile\(0\.99, .*trapi_time_to_revoke_seconds_bucket/],
    ['outcomes by instance and outcome', /by \(exported_instance, outcome\) \(rate\(trapi_revocation_outcomes_total/],
    ['tokens waiting', /trapi_tokens_waiting/],
    ['failed tokens', /trapi_jobs\{[^}]*state="failed"/],
    ['oldest waiting age', /trapi_oldest_waiting_job_age_seconds/],
    ['breakers', /trapi_credential_breaker_open/],
    ['credential expiry', /trapi_credential_expiry_timestamp_seconds/],
    ['provider call durations', /trapi_provider_call_duration_seconds_bucket/],
    ['HTTP requests', /trapi_http_requests_total/],
  ])('shows %s', (_what, pattern) => {
    expect(dashboard.panels.some((p) => p.targets.some((t) => pattern.test(t.expr)))).toBe(true);
  });
});
