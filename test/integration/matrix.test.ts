// The revocation matrix: every token kind × every strategy KIND_RULES allows for it × every class of GitLab answer,
// from POST /v1/revoke_tokens to the final outcome record and the simulated GitLab's state.
//
// One lane per strategy: its own Redis (a worker with another STRATEGY_ORDER must never take its jobs), its own
// simulator (faults match by path, and our credentials' state is per instance) and its own service. Tests of one
// answer class run concurrently across lanes; within a lane they take turns (faults are not per token).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { makeToken, type CallRecord, type GitLabSimulator } from '../../simulator/index.js';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { KIND_RULES, STRATEGIES, typeString, type KindRules, type StrategyName, type TokenKind } from '../../providers/gitlab/kinds.js';
import type { OutcomeRecord } from '../../src/queue/outcomes.js';
import { failedReasonOf, outcomeOf } from '../support/queue.js';
import type { TestRedis } from '../support/redis.js';
import { API_TOKEN, eventually, item, type TestService } from '../support/service.js';
import { startStack } from '../support/stack.js';

const GROUP_ID = 4242;
/** UNAVAILABLE_RECHECK_MINUTES=0.005 in testEnv: how long the provider skips an endpoint it found unavailable. */
const UNAVAILABLE_MEMORY_MS = 0.005 * 60_000;
/** BREAKER_RECHECK_SECONDS=0.3 in testEnv: a held token looks again (and the breaker is probed) this often. */
const BREAKER_RECHECK_MS = 300;

type Revoking = 'revoked' | 'reset' | 'deleted';

interface StrategySpec {
  /** The endpoint the strategy revokes through, as the simulator's faults match it. */
  readonly path: string;
  /** Only this method there (the admin strategy identifies and revokes on one path: both). */
  readonly method?: 'POST' | 'DELETE';
  /** What the outcome (and the simulator's state) becomes when GitLab says yes. */
  readonly action: (rule: KindRules) => Revoking;
  /** Our credential the strategy needs, whose refusal holds the token. */
  readonly credential?: 'admin' | 'group';
  readonly env: Readonly<Record<string, string>>;
}

const SPEC: Readonly<Record<StrategyName, StrategySpec>> = {
  admin: { path: '/api/v4/admin/token', action: (r) => r.adminAction, credential: 'admin', env: {} },
  self: { path: '/api/v4/personal_access_tokens/self', method: 'DELETE', action: () => 'revoked', env: {} },
  runner_reset: { path: '/api/v4/runners/reset_authentication_token', method: 'POST', action: () => 'reset', env: {} },
  runner_delete: { path: '/api/v4/runners', method: 'DELETE', action: () => 'deleted', env: { RUNNER_DELETE_ENABLED: 'true' } },
  group: { path: `/api/v4/groups/${GROUP_ID}/tokens/revoke`, method: 'POST', action: (r) => r.adminAction, credential: 'group', env: { GITLAB_GROUP_ID: String(GROUP_ID) } },
};

interface Pair {
  readonly strategy: StrategyName;
  readonly kind: TokenKind;
  readonly rule: KindRules;
  /** The type GitLab's secret detection sends for the kind (its first rule). */
  readonly type: string;
  /** The outcome status (and simulator state) a successful revocation ends in. */
  readonly expected: Revoking;
}

const firstType = (rule: KindRules): string => {
  const first = rule.ids[0];
  if (first === undefined) throw new Error(`${rule.kind} has no rule`);
  return typeString(first);
};

/** Every (strategy, kind) pair KIND_RULES allows, interleaved across strategies so that concurrent tests hit different lanes. */
const PAIRS: readonly Pair[] = (() => {
  const perStrategy = STRATEGIES.map((strategy) =>
    KIND_RULES.filter((rule) => rule.strategies.includes(strategy)).map((rule): Pair => ({ strategy, kind: rule.kind, rule, type: firstType(rule), expected: SPEC[strategy].action(rule) })),
  );
  const longest = Math.max(...perStrategy.map((p) => p.length));
  return Array.from({ length: longest }, (_, i) => perStrategy.flatMap((p) => p.slice(i, i + 1))).flat();
})();
const ADMIN_PAIRS = PAIRS.filter((p) => p.strategy === 'admin');
const CREDENTIAL_PAIRS = PAIRS.filter((p) => SPEC[p.strategy].credential !== undefined);
/** Kinds whose identify answer carries `revoked`, so a seeded revoked token is seen as gone before any DELETE. */
const ALREADY_REVOKED_PAIRS = ADMIN_PAIRS.filter((p) => p.kind === 'personal_access_token' || p.kind === 'deploy_token');
/**
 * Revocable kinds whose identify answer does not carry `revoked`: the agent token says `status: 'revoked'`, the trigger
 * token nothing (its DELETE then answers 400 "Token already revoked"). Both must still end as already_gone.
 */
const OTHER_REVOKED_SHAPE_PAIRS = ADMIN_PAIRS.filter((p) => p.kind === 'cluster_agent_token' || p.kind === 'pipeline_trigger_token');

interface Lane {
  readonly strategy: StrategyName;
  readonly redis: TestRedis;
  readonly client: Redis;
  readonly queue: Queue;
  readonly sim: GitLabSimulator;
  readonly svc: TestService;
  /** The group owner's credential (group lane only). */
  readonly groupToken: string;
  /** The instance name the service derives from the URL: in outcome records and breaker names. */
  readonly instance: string;
  /** Tail of this lane's turn queue. */
  tail: Promise<unknown>;
}

const lanes = new Map<StrategyName, Lane>();
const cleanups: (() => Promise<unknown>)[] = [];

const laneOf = (strategy: StrategyName): Lane => {
  const lane = lanes.get(strategy);
  if (!lane) throw new Error(`lane ${strategy} did not start`);
  return lane;
};

const seedGroupOwner = (sim: GitLabSimulator, token: string, revoked: boolean) =>
  sim.seed({ token, kind: 'personal_access_token', userId: 77, name: 'group-owner', ownedGroupIds: [GROUP_ID], scopes: ['api'], revoked });

/** A lane is a stack of its own: Redis, simulator and a service with that one strategy. */
async function startLane(strategy: StrategyName): Promise<void> {
  const groupToken = makeToken('personal_access_token');
  const spec = SPEC[strategy];
  const s = await startStack({
    env: ({ gitlab }) => {
      seedGroupOwner(gitlab, groupToken, false); // before the service starts and checks its credentials
      return { STRATEGY_ORDER: strategy, ...spec.env, ...(strategy === 'group' ? { GITLAB_GROUP_TOKEN: groupToken } : {}) };
    },
  });
  cleanups.push(() => s.stop());
  const instance = new URL(s.gitlab.url).host.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
  lanes.set(strategy, { strategy, redis: s.redis, client: s.client, queue: s.queue, sim: s.gitlab, svc: s.service, groupToken, instance, tail: Promise.resolve() });
}

beforeAll(async () => {
  await Promise.all(STRATEGIES.map(startLane));
});
afterAll(async () => {
  // Reverse order of creation: services before the Redis and simulator they use.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** Runs `fn` when the lane's previous turn has ended; the lane's faults and credentials are the test's alone meanwhile. */
function turn<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
  const run = lane.tail.then(fn);
  lane.tail = run.catch(() => undefined);
  return run;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(lane: Lane, token: string, type: string): Promise<void> {
  const res = await request(lane.svc.url).post('/v1/revoke_tokens').set('Authorization', API_TOKEN).send([item(token, type)]);
  expect(res.status).toBe(204);
}

interface Final {
  readonly outcome: OutcomeRecord | undefined;
  readonly failed: string | undefined;
}

/** Waits for the token's job to end either way (outcome recorded, or failed), and returns both sides. */
async function finalOf(lane: Lane, token: string, timeoutMs = 15_000): Promise<Final> {
  let final: Final = { outcome: undefined, failed: undefined };
  await eventually(
    async () => {
      final = { outcome: await outcomeOf(lane.client, token), failed: await failedReasonOf(lane.queue, token) };
      return final.outcome !== undefined || final.failed !== undefined;
    },
    `the ${lane.strategy} job of a token to end`,
    timeoutMs,
  );
  return final;
}

const createToken = (lane: Lane, kind: TokenKind, opts: { revoked?: boolean } = {}): string =>
  lane.sim.createToken(kind, { ...opts, ...(lane.strategy === 'group' ? { groupId: GROUP_ID } : {}) });

const revocationOf = (lane: Lane, token: string) => lane.sim.revokedTokens().find((e) => e.token === token);

/** Calls the simulator answered after call number `seq`. */
const callsSince = (lane: Lane, seq: number): CallRecord[] => lane.sim.calls().filter((c) => c.seq > seq);

const faultMatch = (strategy: StrategyName) => {
  const { path, method } = SPEC[strategy];
  return { path, ...(method === undefined ? {} : { method }) };
};

async function readiness(lane: Lane): Promise<{ httpStatus: number; status: string; checks: Record<string, string> }> {
  const res = await request(lane.svc.url).get('/-/readiness');
  const body = res.body as { status: string; checks: Record<string, string> };
  return { httpStatus: res.status, status: body.status, checks: body.checks };
}

describe('token revocation matrix (kind × strategy × GitLab answer)', () => {
  it('covers every strategy KIND_RULES allows for every kind', () => {
    expect(PAIRS.map((p) => `${p.strategy}:${p.kind}`).sort()).toEqual(
      [
        ...KIND_RULES.filter((r) => r.strategies.includes('admin')).map((r) => `admin:${r.kind}`),
        'self:personal_access_token',
        'runner_reset:runner_authentication_token',
        'runner_delete:runner_authentication_token',
        'group:personal_access_token',
        'group:deploy_token',
        'group:feed_token',
      ].sort(),
    );
    expect(ADMIN_PAIRS).toHaveLength(KIND_RULES.filter((r) => r.strategies.includes('admin')).length);
  });

  describe('success', () => {
    it.concurrent.each(PAIRS)('makes an active $kind stop working via $strategy ($expected), with one revoking call', async ({ strategy, kind, type, expected }) => {
      const lane = laneOf(strategy);
      const token = createToken(lane, kind);
      await submit(lane, token, type);
      const { outcome, failed } = await finalOf(lane, token);
      expect(failed).toBeUndefined();
      expect(outcome).toMatchObject({ status: expected, via: strategy, instance: lane.instance, type, attempts: 1 });
      expect(lane.sim.stateOf(token)).toBe(expected);
      expect(revocationOf(lane, token)).toMatchObject({ outcome: expected, attempts: 1, times: 1 });
    });
  });

  describe('not found', () => {
    it.concurrent.each(PAIRS)('records not_found for a well-formed $kind GitLab never issued, via $strategy', async ({ strategy, kind, type }) => {
      const lane = laneOf(strategy);
      const token = makeToken(kind);
      await submit(lane, token, type);
      const { outcome, failed } = await finalOf(lane, token);
      expect(failed).toBeUndefined();
      expect(outcome).toMatchObject({ status: 'not_found', attempts: 1 });
      expect(lane.sim.stateOf(token)).toBe('unknown');
      expect(revocationOf(lane, token)).toBeUndefined();
    });
  });

  describe('transient failures', () => {
    it.concurrent.each(PAIRS)('revokes a $kind via $strategy when its endpoint answers 503 twice, then recovers', ({ strategy, kind, type, expected }) =>
      turn(laneOf(strategy), async () => {
        const lane = laneOf(strategy);
        const token = createToken(lane, kind);
        const seq = lane.sim.callStats().total;
        lane.sim.faults.failNext(2, 503, faultMatch(strategy));
        try {
          await submit(lane, token, type);
          const { outcome, failed } = await finalOf(lane, token);
          expect(failed).toBeUndefined();
          expect(outcome).toMatchObject({ status: expected, via: strategy, attempts: 3 });
        } finally {
          lane.sim.faults.clear();
        }
        expect(callsSince(lane, seq).filter((c) => c.status === 503)).toHaveLength(2);
        expect(lane.sim.stateOf(token)).toBe(expected);
        expect(revocationOf(lane, token)?.attempts).toBe(1);
      }),
    );
  });

  describe('rate limiting', () => {
    it.concurrent.each(PAIRS)('revokes a $kind via $strategy after two 429s with Retry-After, without using an attempt', ({ strategy, kind, type, expected }) =>
      turn(laneOf(strategy), async () => {
        const lane = laneOf(strategy);
        const token = createToken(lane, kind);
        const seq = lane.sim.callStats().total;
        lane.sim.faults.rateLimitNext(2, { retryAfter: 1, ...faultMatch(strategy) });
        const started = Date.now();
        try {
          await submit(lane, token, type);
          const { outcome, failed } = await finalOf(lane, token);
          expect(failed).toBeUndefined();
          expect(outcome).toMatchObject({ status: expected, via: strategy, attempts: 1 });
        } finally {
          lane.sim.faults.clear();
        }
        // Each wait is Retry-After capped by RETRY_MAX_DELAY_MS (400 ms in tests), plus jitter.
        expect(Date.now() - started).toBeGreaterThanOrEqual(750);
        expect(callsSince(lane, seq).filter((c) => c.status === 429)).toHaveLength(2);
        expect(lane.sim.stateOf(token)).toBe(expected);
        expect(revocationOf(lane, token)?.attempts).toBe(1);
      }),
    );
  });

  describe('dropped connections', () => {
    it.concurrent.each(PAIRS)('revokes a $kind via $strategy when the first connection is dropped', ({ strategy, kind, type, expected }) =>
      turn(laneOf(strategy), async () => {
        const lane = laneOf(strategy);
        const token = createToken(lane, kind);
        const seq = lane.sim.callStats().total;
        lane.sim.faults.dropNext(1, faultMatch(strategy));
        try {
          await submit(lane, token, type);
          const { outcome, failed } = await finalOf(lane, token);
          expect(failed).toBeUndefined();
          expect(outcome).toMatchObject({ status: expected, via: strategy, attempts: 2 });
        } finally {
          lane.sim.faults.clear();
        }
        expect(callsSince(lane, seq).filter((c) => c.fault === 'drop')).toHaveLength(1);
        expect(lane.sim.stateOf(token)).toBe(expected);
        expect(revocationOf(lane, token)?.attempts).toBe(1);
      }),
    );
  });

  describe('already revoked', () => {
    it.concurrent.each(ALREADY_REVOKED_PAIRS)('records already_gone for a revoked $kind via $strategy, without a DELETE', ({ strategy, kind, type }) =>
      turn(laneOf(strategy), async () => {
        const lane = laneOf(strategy);
        const token = createToken(lane, kind, { revoked: true });
        await submit(lane, token, type);
        const { outcome, failed } = await finalOf(lane, token);
        expect(failed).toBeUndefined();
        expect(outcome).toMatchObject({ status: 'already_gone', via: 'admin', attempts: 1, identified: { kind: 'access_token' } });
        expect(lane.sim.calls({ method: 'DELETE', token })).toHaveLength(0);
        expect(lane.sim.stateOf(token)).toBe('revoked');
        expect(revocationOf(lane, token)).toBeUndefined();
      }),
    );

    it.concurrent.each(OTHER_REVOKED_SHAPE_PAIRS)('records already_gone for a revoked $kind via $strategy, whatever its record looks like', ({ strategy, kind, type }) =>
      turn(laneOf(strategy), async () => {
        const lane = laneOf(strategy);
        const token = createToken(lane, kind, { revoked: true });
        await submit(lane, token, type);
        const { outcome, failed } = await finalOf(lane, token);
        expect(lane.sim.stateOf(token)).toBe('revoked');
        expect(failed).toBeUndefined();
        expect(outcome).toMatchObject({ status: 'already_gone', via: 'admin', attempts: 1 });
      }),
    );
  });

  describe('credential rejected', () => {
    const refuse = (lane: Lane, refused: boolean): void => {
      if (lane.strategy === 'admin') lane.sim.setAdminTokenState(refused ? 'revoked' : 'valid');
      else seedGroupOwner(lane.sim, lane.groupToken, refused);
    };

    it.concurrent.each(CREDENTIAL_PAIRS)(
      'holds a $kind while GitLab refuses our $strategy credential, reports degraded, and revokes it once the credential works',
      ({ strategy, kind, type, expected }) =>
        turn(laneOf(strategy), async () => {
          const lane = laneOf(strategy);
          const check = `credential:${lane.instance}:${SPEC[strategy].credential ?? ''}`;
          const token = createToken(lane, kind);
          refuse(lane, true);
          try {
            await submit(lane, token, type);
            await eventually(async () => (await readiness(lane)).status === 'degraded', 'readiness degraded');
            const degraded = await readiness(lane);
            expect(degraded.httpStatus).toBe(200);
            expect(degraded.checks[check]).toMatch(/^refused since .+ \(credential_revoked\)$/);
            // Held across at least two re-checks: neither revoked nor failed.
            await sleep(2 * BREAKER_RECHECK_MS + 100);
            expect(lane.sim.stateOf(token)).toBe('active');
            expect(await failedReasonOf(lane.queue, token)).toBeUndefined();
            expect(await outcomeOf(lane.client, token)).toBeUndefined();
            expect(await lane.queue.getJob(fingerprint(token))).toBeDefined();
          } finally {
            refuse(lane, false);
          }
          const { outcome, failed } = await finalOf(lane, token);
          expect(failed).toBeUndefined();
          expect(outcome).toMatchObject({ status: expected, via: strategy, attempts: 1 });
          expect(lane.sim.stateOf(token)).toBe(expected);
          expect(revocationOf(lane, token)?.attempts).toBe(1);
          await eventually(async () => (await readiness(lane)).status === 'ready', 'readiness ready again');
          expect(Object.keys((await readiness(lane)).checks).filter((k) => k.startsWith('credential:'))).toEqual([]);
        }),
    );
  });

  describe.each([
    { mode: 'flag_disabled' as const, reason: 'admin_api_flag_disabled' },
    { mode: 'absent' as const, reason: 'endpoint_absent' },
  ])('admin API unavailable ($mode)', ({ mode, reason }) => {
    it.concurrent.each(ADMIN_PAIRS)(`holds a $kind naming ${reason} while admin is the only strategy, and revokes it once the API is back`, ({ kind, type, expected }) =>
      turn(laneOf('admin'), async () => {
        const lane = laneOf('admin');
        const token = createToken(lane, kind);
        lane.sim.setAdminApiMode(mode);
        try {
          await submit(lane, token, type);
          await eventually(async () => (await lane.client.hget(`trapi:record:${fingerprint(token)}`, 'lastSummary'))?.includes(`[${reason}]`) === true, 'the token held, naming the reason');
          // Held across several looks at the endpoint: neither failed nor revoked.
          await sleep(3 * UNAVAILABLE_MEMORY_MS);
          expect(await failedReasonOf(lane.queue, token)).toBeUndefined();
          expect(await outcomeOf(lane.client, token)).toBeUndefined();
          expect(await lane.client.hget(`trapi:record:${fingerprint(token)}`, 'lastError')).toBe('no_strategy_available');
          expect(lane.sim.stateOf(token)).toBe('active');
        } finally {
          lane.sim.setAdminApiMode('enabled');
        }
        const { outcome, failed } = await finalOf(lane, token);
        expect(failed).toBeUndefined();
        expect(outcome).toMatchObject({ status: expected, via: 'admin' });
      }),
    );
  });

  it('when the admin API was found absent for one token and is back, a deploy token sent next is held, then revoked (never failed)', () =>
    turn(laneOf('admin'), async () => {
      const lane = laneOf('admin');
      const pat = createToken(lane, 'personal_access_token');
      lane.sim.setAdminApiMode('absent');
      try {
        await submit(lane, pat, 'gitleaks_rule_id_gitlab_personal_access_token_routable');
        await eventually(async () => (await lane.client.hget(`trapi:record:${fingerprint(pat)}`, 'lastError')) === 'no_strategy_available', 'the PAT held');
      } finally {
        lane.sim.setAdminApiMode('enabled');
      }
      // Sent while the provider still remembers the endpoint as absent.
      const deploy = createToken(lane, 'deploy_token');
      await submit(lane, deploy, 'gitleaks_rule_id_gitlab_deploy_token');
      for (const token of [pat, deploy]) {
        const { outcome, failed } = await finalOf(lane, token);
        expect(failed).toBeUndefined();
        expect(outcome).toMatchObject({ status: 'revoked', via: 'admin' });
      }
    }));
});
