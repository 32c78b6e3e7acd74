// The simulated GitLab instance: an HTTP server with latency, faults, call logging and a programmatic handle.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type CallFilter, CallLog, type CallRecord, DEFAULT_CALL_LOG_LIMIT } from './calllog.js';
import { handleControl } from './control.js';
import { faultReply, Faults } from './faults.js';
import { BadRequestError, listenOn, parseParams, readBody, type Reply, type Request, send } from './http.js';
import { ADMIN_API_MODES, type AdminApiMode, NOT_FOUND, type SimContext } from './routes/context.js';
import { matchRoute } from './routes/index.js';
import { type RevocationEntry, type SeedInput, type TokenRecord, type TokenState, TokenStore } from './state.js';
import { makeToken, type MakeTokenOptions, type TokenKind } from './tokens.js';
import { type SimNote, type SimResolution, VULNERABILITY_API_MODES, type VulnerabilityApiMode, VulnerabilityStore } from './vulnerabilities.js';

export interface GitLabSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Sandbox mode: a well-formed token of a known kind never seen before is an existing active token. */
  autoCreate?: boolean;
  /** Instance-wide token prefix, e.g. `mycompany` for `mycompany-glpat-...`. */
  instancePrefix?: string;
  /** The admin PAT (scope `api`); generated when absent. */
  adminToken?: string;
  latencyMs?: number;
  adminApiMode?: AdminApiMode;
  runnerAdminAction?: 'reset' | 'delete';
  /** How many calls the ring buffer keeps (default 100,000). */
  callLogLimit?: number;
}

export type CreateTokenOptions = Omit<SeedInput, 'token' | 'kind'> & Pick<MakeTokenOptions, 'format' | 'prefix'>;

export type AdminTokenState = 'valid' | 'revoked' | 'expired';

/** A running simulator: its URL and the programmatic twin of the /-/sim/ control API. */
export interface GitLabSimulator {
  readonly url: string;
  /** The current admin credential (follows its rotations through /personal_access_tokens/self/rotate). */
  readonly adminToken: string;
  readonly adminApiMode: AdminApiMode;
  readonly autoCreate: boolean;
  readonly instancePrefix: string | undefined;
  readonly faults: Faults;
  seed(input: SeedInput): TokenRecord;
  /** Generates a well-formed token of a kind (with the instance prefix) and seeds it. */
  createToken(kind: TokenKind, opts?: CreateTokenOptions): string;
  stateOf(token: string): TokenState;
  /** A copy of the live record (undefined once reset, deleted or never known). */
  recordOf(token: string): TokenRecord | undefined;
  revokedTokens(): RevocationEntry[];
  calls(filter?: CallFilter): CallRecord[];
  /** Keyed `METHOD route status`; never dropped by the ring buffer. */
  counters(): Record<string, number>;
  callStats(): { total: number; held: number; limit: number };
  setLatency(ms: number): void;
  setAdminApiMode(mode: AdminApiMode): void;
  setAutoCreate(enabled: boolean): void;
  setAdminTokenState(state: AdminTokenState): void;
  /** Notes written on a vulnerability through GraphQL `createNote`, oldest first. */
  notesOf(vulnerabilityId: number): SimNote[];
  /** Every note written, on any vulnerability. */
  allNotes(): SimNote[];
  /** Every `vulnerabilityResolve`, oldest first. */
  resolvedVulnerabilities(): SimResolution[];
  /** `absent`: a GitLab whose GraphQL has no vulnerability management (CE, no licence, older). */
  setVulnerabilityApiMode(mode: VulnerabilityApiMode): void;
  /** Forgets every token, call, fault and note, then re-seeds the original admin token. */
  reset(): void;
  stop(): Promise<void>;
}

function validate(opts: GitLabSimulatorOptions): void {
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new Error(`GitLab simulator: port must be an integer 0..65535, got ${opts.port}`);
  }
  if (opts.adminApiMode !== undefined && !ADMIN_API_MODES.includes(opts.adminApiMode)) {
    throw new Error(`GitLab simulator: adminApiMode must be one of ${ADMIN_API_MODES.join(', ')}`);
  }
}

class Simulator implements GitLabSimulator {
  url = '';
  readonly faults = new Faults();
  private readonly store: TokenStore;
  private readonly vulnerabilities = new VulnerabilityStore();
  private readonly log: CallLog;
  private readonly ctx: SimContext;
  private readonly originalAdmin: string;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly server: Server;

  constructor(private readonly opts: GitLabSimulatorOptions) {
    this.store = new TokenStore(opts.instancePrefix, opts.autoCreate ?? false);
    this.log = new CallLog(opts.callLogLimit ?? DEFAULT_CALL_LOG_LIMIT);
    this.ctx = { store: this.store, vulnerabilities: this.vulnerabilities, settings: { adminApiMode: 'enabled', runnerAdminAction: 'reset' } };
    this.originalAdmin = opts.adminToken ?? makeToken('personal_access_token', opts.instancePrefix ? { instancePrefix: opts.instancePrefix } : {});
    this.applyDefaults();
    this.server = createServer((req, res) => void this.handle(req, res));
    // A benchmark's client keeps connections open; be generous so they are reused, not re-dialled.
    this.server.keepAliveTimeout = 30_000;
  }

  get adminToken(): string {
    return this.store.currentOf(this.originalAdmin);
  }
  get adminApiMode(): AdminApiMode {
    return this.ctx.settings.adminApiMode;
  }
  get autoCreate(): boolean {
    return this.store.autoCreate;
  }
  get instancePrefix(): string | undefined {
    return this.store.instancePrefix;
  }

  seed = (input: SeedInput): TokenRecord => ({ ...this.store.seed(input) });
  createToken = (kind: TokenKind, opts: CreateTokenOptions = {}): string => {
    const { format, prefix, ...seed } = opts;
    const inst = this.store.instancePrefix;
    const token = makeToken(kind, { ...(format ? { format } : {}), ...(prefix ? { prefix } : {}), ...(inst ? { instancePrefix: inst } : {}) });
    this.store.seed({ ...seed, token, kind });
    return token;
  };
  stateOf = (token: string): TokenState => this.store.stateOf(token);
  recordOf = (token: string): TokenRecord | undefined => {
    const rec = this.store.get(token);
    return rec && { ...rec };
  };
  revokedTokens = (): RevocationEntry[] => this.store.revokedTokens();
  calls = (filter?: CallFilter): CallRecord[] => this.log.list(filter);
  counters = (): Record<string, number> => this.log.counters();
  callStats = (): { total: number; held: number; limit: number } => ({ total: this.log.total, held: this.log.held, limit: this.log.limit });
  setLatency = (ms: number): void => this.faults.setLatency(ms);
  setAdminApiMode = (mode: AdminApiMode): void => {
    if (!ADMIN_API_MODES.includes(mode)) throw new Error(`adminApiMode must be one of ${ADMIN_API_MODES.join(', ')}`);
    this.ctx.settings.adminApiMode = mode;
  };
  setAutoCreate = (enabled: boolean): void => {
    this.store.autoCreate = enabled;
  };

  setAdminTokenState = (state: AdminTokenState): void => {
    const token = this.adminToken;
    const rec = this.store.get(token) ?? this.store.seed({ token, admin: true, scopes: ['api'], kind: 'personal_access_token' });
    // Direct edits, not revocations: the admin credential must not show up in revokedTokens().
    rec.revoked = state === 'revoked';
    rec.expiresAt = state === 'expired' ? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10) : null;
  };

  notesOf = (vulnerabilityId: number): SimNote[] => this.vulnerabilities.notesOf(vulnerabilityId);
  allNotes = (): SimNote[] => this.vulnerabilities.allNotes();
  resolvedVulnerabilities = (): SimResolution[] => this.vulnerabilities.resolved();
  setVulnerabilityApiMode = (mode: VulnerabilityApiMode): void => {
    if (!VULNERABILITY_API_MODES.includes(mode)) throw new Error(`vulnerability API mode must be one of ${VULNERABILITY_API_MODES.join(', ')}`);
    this.vulnerabilities.mode = mode;
  };

  reset = (): void => {
    this.store.clear();
    this.vulnerabilities.clear();
    this.log.clear();
    this.faults.clear();
    this.applyDefaults();
  };

  stop = async (): Promise<void> => {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // close() alone waits for keep-alive sockets to idle out; tests and SIGINT should not.
    this.server.closeAllConnections();
    await closed;
  };

  private applyDefaults(): void {
    this.faults.setLatency(this.opts.latencyMs ?? 0);
    this.store.autoCreate = this.opts.autoCreate ?? false;
    this.ctx.settings.adminApiMode = this.opts.adminApiMode ?? 'enabled';
    this.ctx.settings.runnerAdminAction = this.opts.runnerAdminAction ?? 'reset';
    this.store.seed({ token: this.originalAdmin, kind: 'personal_access_token', admin: true, scopes: ['api'], userId: 1, name: 'simulator-admin' });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return send(res, { status: 400, body: { error: 'body too large' } });
    }
    if (url.pathname.startsWith('/-/sim/')) return send(res, handleControl(this, method, url, raw));
    const fault = this.faults.take(method, url.pathname);
    await this.sleep(this.faults.latencyMs);
    const record = (route: string, status: number, token?: string, faultName?: string): void =>
      this.log.record({ method, path: url.pathname, route, status, at, durationMs: Date.now() - at, token: token ?? null, fault: faultName ?? null });
    const match = matchRoute(method, url.pathname);
    const route = match?.pattern ?? 'unmatched';
    const action = fault?.action;
    if (action?.type === 'slow') {
      await this.sleep(action.ms);
      const reply = this.answer(method, url, raw, req, match);
      record(route, reply.status, reply.token, action.type);
      return send(res, reply);
    }
    if (action?.type === 'drop' || action?.type === 'drop_after') {
      const done = action.type === 'drop_after' ? this.answer(method, url, raw, req, match) : undefined;
      record(route, 0, done?.token, action.type);
      req.socket.destroy();
      return;
    }
    if (action) {
      const reply = faultReply(action);
      record(route, reply.status, undefined, action.type);
      return send(res, reply);
    }
    const reply = this.answer(method, url, raw, req, match);
    record(route, reply.status, reply.token);
    send(res, reply);
  }

  private answer(method: string, url: URL, raw: string, req: IncomingMessage, match: ReturnType<typeof matchRoute>): Reply {
    if (!match) return NOT_FOUND;
    try {
      const params = parseParams(raw, req.headers['content-type'], url.searchParams);
      const request: Request = { method, path: url.pathname, headers: req.headers, params, pathParams: match.pathParams };
      return match.handler(request, this.ctx);
    } catch (err) {
      if (err instanceof BadRequestError) return { status: 400, body: { error: err.message } };
      return { status: 500, body: { message: '500 Internal Server Error' } };
    }
  }
}

/** Starts a simulated GitLab on `host:port` (default 127.0.0.1 and a free port). */
export async function startGitLabSimulator(opts: GitLabSimulatorOptions = {}): Promise<GitLabSimulator> {
  validate(opts);
  const sim = new Simulator(opts);
  const host = opts.host ?? '127.0.0.1';
  const port = await listenOn(sim.server, host, opts.port ?? 0);
  sim.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return sim;
}
