// The GitLab instances to revoke on: one from the GITLAB_* variables, or several from GITLAB_INSTANCES_FILE.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { parseRotationTarget, type RotationTarget } from '../domain/credentials.js';
import { schemaPath } from '../paths.js';
import { describeFileError, urlProblem } from './messages.js';
import type { StrategyName } from './providers.js';

export interface InstanceConfig {
  readonly name: string;
  readonly url: string;
  /** Non-enumerable, like every secret of the Config. */
  readonly adminToken: string | undefined;
  readonly group: { readonly id: number; readonly token: string } | undefined;
  readonly tokenPrefix: string | undefined;
  /** PEM text of a private CA. */
  readonly ca: string | undefined;
  readonly limits: { readonly perSecond: number; readonly concurrency: number };
  readonly strategies: readonly StrategyName[];
  /** Self-rotation of each credential (opt-in); undefined: its expiry is only watched. */
  readonly rotation: { readonly admin: RotationTarget | undefined; readonly group: RotationTarget | undefined };
}

export interface InstanceDefaults {
  readonly perSecond: number;
  readonly concurrency: number;
  readonly strategies: readonly StrategyName[];
}

interface FileInstance {
  name?: string;
  url: string;
  adminToken?: string;
  adminTokenFile?: string;
  adminTokenRotation?: string;
  caFile?: string;
  tokenPrefix?: string;
  group?: { id: number; token?: string; tokenFile?: string; tokenRotation?: string };
  rateLimitPerSecond?: number;
  concurrency?: number;
  strategies?: StrategyName[];
}

type Env = (name: string) => string | undefined;

/** Instances from the environment; `[]` means sandbox mode. Problems are appended, never thrown one at a time. */
export function loadInstances(env: Env, defaults: InstanceDefaults, problems: string[]): InstanceConfig[] {
  const file = env('GITLAB_INSTANCES_FILE');
  if (file !== undefined && env('GITLAB_URL') !== undefined) problems.push('GITLAB_URL and GITLAB_INSTANCES_FILE are both set; use one');
  if (file !== undefined) return fromFile(file, defaults, problems);
  const url = env('GITLAB_URL');
  if (url === undefined) return [];
  const groupId = env('GITLAB_GROUP_ID');
  const groupToken = env('GITLAB_GROUP_TOKEN');
  if ((groupId === undefined) !== (groupToken === undefined)) problems.push('GITLAB_GROUP_ID and GITLAB_GROUP_TOKEN must be set together');
  const caFile = env('GITLAB_CA_FILE');
  return [
    instance({
      name: nameOf(url),
      url,
      adminToken: env('GITLAB_ADMIN_TOKEN'),
      group: groupId !== undefined && groupToken !== undefined ? { id: Number(groupId), token: groupToken } : undefined,
      tokenPrefix: env('GITLAB_TOKEN_PREFIX'),
      ca: caFile === undefined ? undefined : readOr(caFile, 'GITLAB_CA_FILE', problems),
      limits: { perSecond: defaults.perSecond, concurrency: defaults.concurrency },
      strategies: defaults.strategies,
      rotation: { admin: parseRotationTarget(env('GITLAB_ADMIN_TOKEN_ROTATION')), group: parseRotationTarget(env('GITLAB_GROUP_TOKEN_ROTATION')) },
    }),
  ];
}

// verbose: the errors carry their schema, so that an unknown key's message can list the known ones.
const validateFile = new Ajv({ allErrors: true, strict: true, verbose: true }).compile<{ instances: FileInstance[] }>(
  JSON.parse(readFileSync(schemaPath('instances.schema.json'), 'utf8')) as object,
);

function fromFile(path: string, defaults: InstanceDefaults, problems: string[]): InstanceConfig[] {
  const text = readOr(path, 'GITLAB_INSTANCES_FILE', problems);
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON: one parser reads both
  } catch (err) {
    problems.push(`GITLAB_INSTANCES_FILE: ${path} is not valid JSON or YAML (${(err as Error).message.split('\n')[0] ?? ''})`);
    return [];
  }
  if (!validateFile(parsed)) {
    for (const e of validateFile.errors ?? []) problems.push(`GITLAB_INSTANCES_FILE ${describeFileError(e)}`);
    return [];
  }
  // The pattern lets through URLs that new URL() refuses (a port that is not a number): say so, rather than throw later.
  const badUrls = parsed.instances.flatMap((f, i) => urlProblem(`GITLAB_INSTANCES_FILE /instances/${i}/url`, f.url, ['http:', 'https:']) ?? []);
  if (badUrls.length > 0) {
    problems.push(...badUrls);
    return [];
  }
  const list = parsed.instances.map((f, i) => fromEntry(f, i, defaults, problems));
  const names = list.map((i) => i.name);
  for (const dup of names.filter((n, i) => names.indexOf(n) !== i)) problems.push(`GITLAB_INSTANCES_FILE: instance name "${dup}" is used twice; set distinct names`);
  return list;
}

function fromEntry(f: FileInstance, index: number, defaults: InstanceDefaults, problems: string[]): InstanceConfig {
  const at = `GITLAB_INSTANCES_FILE /instances/${index}`;
  if (f.adminToken !== undefined && f.adminTokenFile !== undefined) problems.push(`${at}: set adminToken or adminTokenFile, not both`);
  if (f.group && (f.group.token === undefined) === (f.group.tokenFile === undefined)) problems.push(`${at}/group: set exactly one of token and tokenFile`);
  const groupToken = f.group?.token ?? (f.group?.tokenFile === undefined ? undefined : readOr(f.group.tokenFile, `${at}/group/tokenFile`, problems));
  return instance({
    name: f.name ?? nameOf(f.url),
    url: f.url,
    adminToken: f.adminToken ?? (f.adminTokenFile === undefined ? undefined : readOr(f.adminTokenFile, `${at}/adminTokenFile`, problems)),
    group: f.group && groupToken !== undefined ? { id: f.group.id, token: groupToken } : undefined,
    tokenPrefix: f.tokenPrefix,
    ca: f.caFile === undefined ? undefined : readOr(f.caFile, `${at}/caFile`, problems),
    limits: { perSecond: f.rateLimitPerSecond ?? defaults.perSecond, concurrency: f.concurrency ?? defaults.concurrency },
    strategies: f.strategies ?? defaults.strategies,
    rotation: { admin: parseRotationTarget(f.adminTokenRotation), group: parseRotationTarget(f.group?.tokenRotation) },
  });
}

/** Freezes an instance with its credentials non-enumerable, so that logging it never prints them. */
export function instance(i: InstanceConfig): InstanceConfig {
  const copy = { ...i, url: i.url.replace(/\/+$/, ''), group: i.group ? { ...i.group } : undefined, rotation: Object.freeze({ ...i.rotation }) };
  Object.defineProperty(copy, 'adminToken', { enumerable: false });
  if (copy.group) Object.defineProperty(copy.group, 'token', { enumerable: false });
  return Object.freeze(copy);
}

const nameOf = (url: string): string => new URL(url).host.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');

function readOr(path: string, what: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    problems.push(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}
