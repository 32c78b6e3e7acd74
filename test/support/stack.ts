// One fixture for a suite's Redis, vendor simulators and service: useStack() registers the beforeAll that starts them
// and the afterAll that stops them in reverse order, so suites hold no lifecycle code of their own; startStack() is the
// same for a test that needs a stack of its own. Isolation: each stack owns a redis-server (the key prefix is fixed in
// production code and some tests read every key), unless it borrows another stack's.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { startGitHubSimulator, type GitHubSimulator, type GitHubSimulatorOptions } from '../../simulator/github/index.js';
import { startGitLabSimulator, type GitLabSimulator, type GitLabSimulatorOptions } from '../../simulator/index.js';
import { startSlackSimulator, type SlackSimulator, type SlackSimulatorOptions } from '../../simulator/slack/index.js';
import type { ServerLimits } from '../../src/http/server.js';
import { QUEUE_NAME } from '../../src/queue/jobs.js';
import { startApiServer, type ApiServer } from './api-server.js';
import { spawnService, type ServiceProcess } from './process.js';
import { inspectQueue } from './queue.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { startTestService, testEnv, type TestService } from './service.js';

type Env = Record<string, string>;

/** Starting a redis-server, simulators and a service or two takes seconds; on a loaded CI machine, more than a test's 30. */
const HOOK_TIMEOUT_MS = 60_000;

/**
 * What a suite needs. Redis, the GitLab simulator and the service are on unless `false`; the other parts start only
 * when asked for. A function instead of options borrows a part that another stack (an enclosing describe's) runs:
 * it is read when the stack starts and never stopped by it.
 */
export interface StackOptions {
  /** A redis-server of this suite's own (the isolation: no other suite sees its keys); `false` for none. */
  redis?: boolean | (() => TestRedis);
  gitlab?: boolean | GitLabSimulatorOptions | (() => GitLabSimulator);
  github?: boolean | GitHubSimulatorOptions;
  slack?: boolean | SlackSimulatorOptions;
  /** The service in-process (startTestService) with `env`; `false` for none. */
  service?: boolean;
  /** How many such services share the stack's Redis and simulators (replicas, as in production); default 1. */
  replicas?: number;
  /** The production HTTP app alone (startApiServer) with these limits, on the stack's Redis. */
  api?: Partial<ServerLimits>;
  /** The stack's services' variables, over testEnv's; a function is called at start, once the simulators run. */
  env?: Env | ((stack: Stack) => Env);
}

/** The running parts: each field is set once the stack has started, and throws if read before or if not asked for. */
export interface Stack {
  readonly redis: TestRedis;
  /** A plain client of the stack's Redis, for assertions. */
  readonly client: Redis;
  readonly gitlab: GitLabSimulator;
  readonly github: GitHubSimulator;
  readonly slack: SlackSimulator;
  /** The first (or only) replica. */
  readonly service: TestService;
  /** Replica `i` (0-based) of `replicas`. */
  replica(i: number): TestService;
  readonly api: ApiServer;
  /** testEnv with the stack's Redis and simulator URLs and `extra` on top; not the stack's `env` (its services' own). */
  env(extra?: Env): NodeJS.ProcessEnv;
  /** Another in-process service with env(extra); stopped with the stack unless stopped before. */
  startService(extra?: Env): Promise<TestService>;
  /** The built service as a child process (test/support/process.ts) with env(extra); killed with the stack. */
  spawn(extra?: Env): ServiceProcess;
  /** The revocation queue, for inspection (test/support/queue.ts): opened when first read, closed with the stack. */
  readonly queue: Queue;
  /** Another queue by name, likewise. */
  inspect(name: string): Queue;
}

/** A stack for a describe block: started in beforeAll, stopped in afterAll. */
export function useStack(opts: StackOptions = {}): Stack {
  const { stack, start, stop } = createStack(opts);
  beforeAll(start, HOOK_TIMEOUT_MS);
  afterAll(stop, HOOK_TIMEOUT_MS);
  return stack;
}

export interface RunningStack extends Stack {
  stop(): Promise<void>;
}

/** A stack for one test (each with a budget or a Redis of its own): started now, stopped by the caller. */
export async function startStack(opts: StackOptions = {}): Promise<RunningStack> {
  const { stack, start, stop } = createStack(opts);
  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return Object.assign(stack, { stop });
}

function createStack(opts: StackOptions): { stack: Stack; start(): Promise<void>; stop(): Promise<void> } {
  const parts: Partial<Record<'redis' | 'client' | 'gitlab' | 'github' | 'slack' | 'service' | 'api' | 'queue', unknown>> = {};
  const stoppers: Array<() => Promise<unknown>> = []; // run in reverse order of start
  const replicas: TestService[] = [];

  const part = <T>(name: keyof typeof parts): T => {
    if (parts[name] === undefined) throw new Error(`stack: no ${name} (not asked for, or read before it started)`);
    return parts[name] as T;
  };
  const own = <T extends { stop(): Promise<unknown> }>(started: T): T => {
    stoppers.push(() => started.stop());
    return started;
  };

  const stack: Stack = {
    get redis() { return part<TestRedis>('redis'); },
    get client() { return part<Redis>('client'); },
    get gitlab() { return part<GitLabSimulator>('gitlab'); },
    get github() { return part<GitHubSimulator>('github'); },
    get slack() { return part<SlackSimulator>('slack'); },
    get service() { return part<TestService>('service'); },
    get api() { return part<ApiServer>('api'); },
    replica: (i) => {
      const svc = replicas[i];
      if (svc === undefined) throw new Error(`stack: no replica ${i} (not asked for, or read before it started)`);
      return svc;
    },
    env: (extra = {}) => {
      const gitlab = parts.gitlab as GitLabSimulator | undefined;
      const vendors: Env = {};
      if (parts.github) vendors['GITHUB_API_URL'] = (parts.github as GitHubSimulator).apiUrl;
      if (parts.slack) vendors['SLACK_API_URL'] = (parts.slack as SlackSimulator).url;
      return testEnv(stack.redis.url, gitlab?.url ?? '', gitlab?.adminToken ?? '', { ...vendors, ...extra });
    },
    startService: async (extra = {}) => {
      const env = stack.env(extra);
      const svc = await startTestService(env['REDIS_URL'] ?? '', env['GITLAB_URL'] ?? '', env['GITLAB_ADMIN_TOKEN'] ?? '', env as Env);
      let stopped: Promise<void> | undefined;
      const stop = () => (stopped ??= svc.stop());
      stoppers.push(stop);
      return { ...svc, stop };
    },
    spawn: (extra = {}) => {
      const proc = spawnService({ ...process.env, ...stack.env(extra) });
      stoppers.push(() => kill(proc));
      return proc;
    },
    get queue() {
      return (parts.queue ??= stack.inspect(QUEUE_NAME)) as Queue;
    },
    inspect: (name) => {
      const q = inspectQueue(stack.redis.url, name);
      stoppers.push(() => q.close());
      return q;
    },
  };

  const start = async () => {
    if (typeof opts.redis === 'function') parts.redis = opts.redis();
    else if (opts.redis !== false) parts.redis = own(await startTestRedis());
    if (parts.redis) parts.client = (parts.redis as TestRedis).client(); // disconnected by redis.stop()
    if (typeof opts.gitlab === 'function') parts.gitlab = opts.gitlab();
    else if (opts.gitlab !== false) parts.gitlab = own(await startGitLabSimulator(opts.gitlab === true ? {} : opts.gitlab));
    if (opts.github) {
      const github = await startGitHubSimulator(opts.github === true ? {} : opts.github);
      stoppers.push(() => github.close());
      parts.github = github;
    }
    if (opts.slack) {
      const slack = await startSlackSimulator(opts.slack === true ? {} : opts.slack);
      stoppers.push(() => slack.close());
      parts.slack = slack;
    }
    const env = typeof opts.env === 'function' ? opts.env(stack) : (opts.env ?? {});
    if (opts.api) parts.api = own(await startApiServer(stack.redis.url, opts.api));
    if (opts.service !== false) for (let i = 0; i < (opts.replicas ?? 1); i++) replicas.push(await stack.startService(env));
    parts.service = replicas[0];
  };
  const stop = async () => {
    for (const stopper of stoppers.splice(0).reverse()) await stopper();
  };
  return { stack, start, stop };
}

/** A failed test must not leave a service process (and its embedded Redis) running. */
async function kill(proc: ServiceProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = proc.exited();
  proc.child.kill('SIGKILL');
  await exited;
}
