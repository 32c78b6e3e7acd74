// HTTP control API under /-/sim/, so a benchmark in another process can drive the simulator. JSON in and out.
/*
 * GET    /-/sim/info            → { url, adminToken, adminApiMode, autoCreate, instancePrefix, latencyMs, calls:{total,held,limit} }
 * POST   /-/sim/tokens          SeedInput | SeedInput[] | { tokens: SeedInput[] } → 201 { tokens: TokenRecord[] }
 * POST   /-/sim/tokens/make     { kind, count?=1, format?, prefix?, ...SeedInput fields } → 201 { tokens: string[] } (seeded)
 * POST   /-/sim/tokens/state    { tokens: string[] } → { states: { [token]: 'active'|'revoked'|'reset'|'deleted'|'unknown' } }
 * GET    /-/sim/revoked         → { revoked: RevocationEntry[] }
 * GET    /-/sim/calls           ?method=&path=&route=&status=&token=&limit= → { total, held, limit, calls: CallRecord[] }
 * GET    /-/sim/counters        → { total, counters: { "METHOD route status": n } }
 * GET    /-/sim/faults          → { latencyMs, faults: ActiveFault[] }
 * POST   /-/sim/faults          FaultSpec, e.g. { action:{type:'status',status:503}, times:3 } → 201 { id }
 *                               (action types: status, rate_limit, drop, drop_after, slow {ms})
 * DELETE /-/sim/faults          → 204, every fault removed (latency stays)
 * DELETE /-/sim/faults/:id      → 204, or 404 when no such fault
 * PUT    /-/sim/latency         { ms } → 204
 * PUT    /-/sim/admin-api       { mode: 'enabled'|'flag_disabled'|'absent' } → 204
 * PUT    /-/sim/admin-token     { state: 'valid'|'revoked'|'expired' } → { adminToken }
 * PUT    /-/sim/auto-create     { enabled: boolean } → 204
 * POST   /-/sim/reset           → 204, forgets tokens, calls and faults; re-seeds the admin token
 * Bad input answers 400 { error }, an unknown endpoint 404 { error }.
 */
import type { CallFilter } from './calllog.js';
import { FAULT_TYPES, type FaultAction, type FaultSpec } from './faults.js';
import { BadRequestError, json, type Reply } from './http.js';
import { ADMIN_API_MODES, type AdminApiMode } from './routes/context.js';
import type { AdminTokenState, CreateTokenOptions, GitLabSimulator } from './server.js';
import type { SeedInput } from './state.js';
import { isTokenKind } from './tokens.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadRequestError('body must be JSON');
  }
}

function objectBody(raw: string): Obj {
  const body = parse(raw);
  if (!isObj(body)) throw new BadRequestError('body must be a JSON object');
  return body;
}

/** Keeps only SeedInput fields, type-checked, so a typo fails loudly instead of seeding garbage. */
function seedFields(o: Obj): Omit<SeedInput, 'token'> {
  const out: Obj = {};
  const check = (key: string, ok: (v: unknown) => boolean, what: string): void => {
    if (o[key] === undefined) return;
    if (!ok(o[key])) throw new BadRequestError(`${key} must be ${what}`);
    out[key] = o[key];
  };
  const num = (v: unknown): boolean => Number.isInteger(v);
  const bool = (v: unknown): boolean => typeof v === 'boolean';
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
  check('kind', isTokenKind, 'a known token kind');
  check('subkind', (v) => ['personal', 'impersonation', 'project', 'group'].includes(v as string), 'personal|impersonation|project|group');
  check('id', num, 'an integer');
  check('userId', num, 'an integer');
  check('groupId', num, 'an integer');
  check('projectId', num, 'an integer');
  check('ownedGroupIds', (v) => Array.isArray(v) && v.every(num), 'an array of integers');
  check('name', (v) => typeof v === 'string', 'a string');
  check('scopes', strings, 'an array of strings');
  check('active', bool, 'a boolean');
  check('revoked', bool, 'a boolean');
  check('admin', bool, 'a boolean');
  check('expiresAt', (v) => v === null || typeof v === 'string', 'a date string or null');
  return out as Omit<SeedInput, 'token'>;
}

function toSeed(v: unknown): SeedInput {
  if (!isObj(v) || typeof v['token'] !== 'string' || v['token'] === '') throw new BadRequestError('each token needs a non-empty "token" string');
  return { ...seedFields(v), token: v['token'] };
}

function seedTokens(sim: GitLabSimulator, raw: string): Reply {
  const body = parse(raw);
  const list = Array.isArray(body) ? body : isObj(body) && Array.isArray(body['tokens']) ? body['tokens'] : [body];
  const inputs = list.map(toSeed);
  try {
    return json(201, { tokens: inputs.map((i) => sim.seed(i)) });
  } catch (err) {
    throw new BadRequestError(err instanceof Error ? err.message : String(err));
  }
}

function makeTokens(sim: GitLabSimulator, raw: string): Reply {
  const body = objectBody(raw);
  const { kind, count = 1, format, prefix } = body;
  if (!isTokenKind(kind)) throw new BadRequestError('kind must be a known token kind');
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 100_000) throw new BadRequestError('count must be 1..100000');
  if (format !== undefined && !['legacy', 'routable', 'versioned'].includes(format as string)) throw new BadRequestError('format must be legacy|routable|versioned');
  if (prefix !== undefined && typeof prefix !== 'string') throw new BadRequestError('prefix must be a string');
  const { kind: _kind, ...seed } = seedFields(body);
  const opts = { ...seed, ...(format ? { format } : {}), ...(prefix ? { prefix } : {}) } as CreateTokenOptions;
  try {
    return json(201, { tokens: Array.from({ length: count as number }, () => sim.createToken(kind, opts)) });
  } catch (err) {
    throw new BadRequestError(err instanceof Error ? err.message : String(err));
  }
}

function states(sim: GitLabSimulator, raw: string): Reply {
  const tokens = objectBody(raw)['tokens'];
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) throw new BadRequestError('tokens must be an array of strings');
  return json(200, { states: Object.fromEntries(tokens.map((t: string) => [t, sim.stateOf(t)])) });
}

function callFilter(q: URLSearchParams): CallFilter {
  const f: CallFilter = {};
  for (const key of ['method', 'path', 'route', 'token'] as const) {
    const v = q.get(key);
    if (v !== null) f[key] = v;
  }
  for (const key of ['status', 'limit'] as const) {
    const v = q.get(key);
    if (v === null) continue;
    if (!/^\d+$/.test(v)) throw new BadRequestError(`${key} must be an integer`);
    f[key] = Number(v);
  }
  return f;
}

function addFault(sim: GitLabSimulator, raw: string): Reply {
  const spec = objectBody(raw) as unknown as FaultSpec;
  const type = isObj(spec.action) ? spec.action['type'] : undefined;
  if (!FAULT_TYPES.includes(type as FaultAction['type'])) throw new BadRequestError(`action.type must be ${FAULT_TYPES.join('|')}`);
  if (type === 'status' && !Number.isInteger((spec.action as Obj)['status'])) throw new BadRequestError('action.status must be an integer');
  if (type === 'slow' && !(typeof (spec.action as Obj)['ms'] === 'number' && ((spec.action as Obj)['ms'] as number) >= 0)) throw new BadRequestError('action.ms must be a non-negative number');
  try {
    return json(201, { id: sim.faults.add(spec) });
  } catch (err) {
    throw new BadRequestError(err instanceof Error ? err.message : String(err));
  }
}

function put(raw: string, key: string, ok: (v: unknown) => boolean, what: string): unknown {
  const v = objectBody(raw)[key];
  if (!ok(v)) throw new BadRequestError(`${key} must be ${what}`);
  return v;
}

function route(sim: GitLabSimulator, method: string, url: URL, raw: string): Reply {
  const path = url.pathname.replace(/\/+$/, '');
  const faultId = /^\/-\/sim\/faults\/(\d+)$/.exec(path)?.[1];
  if (method === 'DELETE' && faultId) return sim.faults.remove(Number(faultId)) ? { status: 204 } : json(404, { error: 'no such fault' });
  switch (`${method} ${path}`) {
    case 'GET /-/sim/info':
      return json(200, { url: sim.url, adminToken: sim.adminToken, adminApiMode: sim.adminApiMode, autoCreate: sim.autoCreate, instancePrefix: sim.instancePrefix ?? null, latencyMs: sim.faults.latencyMs, calls: sim.callStats() });
    case 'POST /-/sim/tokens':
      return seedTokens(sim, raw);
    case 'POST /-/sim/tokens/make':
      return makeTokens(sim, raw);
    case 'POST /-/sim/tokens/state':
      return states(sim, raw);
    case 'GET /-/sim/revoked':
      return json(200, { revoked: sim.revokedTokens() });
    case 'GET /-/sim/calls':
      return json(200, { ...sim.callStats(), calls: sim.calls(callFilter(url.searchParams)) });
    case 'GET /-/sim/counters':
      return json(200, { total: sim.callStats().total, counters: sim.counters() });
    case 'GET /-/sim/faults':
      return json(200, { latencyMs: sim.faults.latencyMs, faults: sim.faults.list() });
    case 'POST /-/sim/faults':
      return addFault(sim, raw);
    case 'DELETE /-/sim/faults':
      sim.faults.clear();
      return { status: 204 };
    case 'PUT /-/sim/latency':
      sim.setLatency(put(raw, 'ms', (v) => typeof v === 'number' && v >= 0, 'a non-negative number') as number);
      return { status: 204 };
    case 'PUT /-/sim/admin-api':
      sim.setAdminApiMode(put(raw, 'mode', (v) => ADMIN_API_MODES.includes(v as AdminApiMode), ADMIN_API_MODES.join('|')) as AdminApiMode);
      return { status: 204 };
    case 'PUT /-/sim/admin-token':
      sim.setAdminTokenState(put(raw, 'state', (v) => ['valid', 'revoked', 'expired'].includes(v as string), 'valid|revoked|expired') as AdminTokenState);
      return json(200, { adminToken: sim.adminToken });
    case 'PUT /-/sim/auto-create':
      sim.setAutoCreate(put(raw, 'enabled', (v) => typeof v === 'boolean', 'a boolean') as boolean);
      return { status: 204 };
    case 'POST /-/sim/reset':
      sim.reset();
      return { status: 204 };
    default:
      return json(404, { error: `unknown control endpoint ${method} ${path}` });
  }
}

/** Answers one control call; never subject to latency, faults or the call log. */
export function handleControl(sim: GitLabSimulator, method: string, url: URL, raw: string): Reply {
  try {
    return route(sim, method, url, raw);
  } catch (err) {
    if (err instanceof BadRequestError) return json(400, { error: err.message });
    return json(500, { error: err instanceof Error ? err.message : String(err) });
  }
}
