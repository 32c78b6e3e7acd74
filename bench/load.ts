// One autocannon run against a target, every request carrying fresh unique tokens (a known token is a cheap no-op).
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly durationS: number;
  /** Responses received (any status). */
  readonly responses: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly connErrors: number;
  readonly timeouts: number;
  readonly requestsPerS: number;
  /** Tokens in 2xx-answered requests only: a rejected token does not count as throughput. */
  readonly tokensPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly apiToken: string;
  readonly tokensPerRequest: number;
  readonly seconds: number;
  readonly connections: number;
}

// Unique per bench process and per generated token: 6 random chars + 14 base-36 counter digits = the 20 chars of a glpat.
const RUN_PREFIX = randomBytes(6).toString('base64url').slice(0, 6);
let counter = 0;
const ITEM_HEAD = '{"type":"gitleaks_rule_id_gitlab_personal_access_token","token":"glpat-' + RUN_PREFIX;
const ITEM_TAIL = '","location":"https://gitlab.example.com/g/p/-/raw/abc/f.yml#L1"}';

/** Built by hand rather than JSON.stringify: the load generator shares the machine with the targets, so it must be cheap. */
function body(tokensPerRequest: number): string {
  const items: string[] = [];
  for (let i = 0; i < tokensPerRequest; i++) items.push(ITEM_HEAD + (counter++).toString(36).padStart(14, '0') + ITEM_TAIL);
  return `[${items.join(',')}]`;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: `${o.url}/v1/revoke_tokens`,
    connections: o.connections,
    duration: o.seconds,
    headers: { authorization: o.apiToken, 'content-type': 'application/json' },
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: body(o.tokensPerRequest) }) }],
  });
  const durationS = result.duration;
  const ok2xx = result['2xx'];
  return {
    durationS,
    responses: result.requests.total,
    ok2xx,
    non2xx: result.non2xx,
    connErrors: result.errors,
    timeouts: result.timeouts,
    requestsPerS: result.requests.total / durationS,
    tokensPerS: (ok2xx * o.tokensPerRequest) / durationS,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}
