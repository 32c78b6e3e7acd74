// The simulated GitHub (api.github.com, or a GHES host under /api/v3): a real HTTP server with faults, a call log and a handle.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Faults, type Route } from './faults.js';
import { HourlyLimit } from './ratelimit.js';
import * as routes from './routes.js';
import { type Mode, NOT_FOUND, type Reply, type RevokeCall, type SimContext } from './routes.js';
import { TokenStore } from './store.js';
import { makeToken, type TokenPrefix } from './tokens.js';
import { listenOn, readBody } from '../http.js';

export interface GitHubSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** `dotcom` (default): revoke calls must be unauthenticated. `ghes`: they need `adminToken`; routes live under /api/v3. */
  readonly mode?: Mode;
  /** The GHES admin credential; generated when absent. */
  readonly adminToken?: string;
  /** POST /credentials/revoke calls allowed per hour (default 60). */
  readonly requestsPerHour?: number;
  /** What an exceeded hourly limit answers (default 429). */
  readonly rateLimitStatus?: 403 | 429;
  /** GitHub revokes asynchronously: tokens die this long after the 202 (default 0). */
  readonly revokeDelayMs?: number;
  /** How long after DELETE /installation/token the token dies (default 0). */
  readonly installationDelayMs?: number;
  /** Sandbox: a well-formed token never seen is a live one (default false: unknown tokens are dead). */
  readonly autoCreate?: boolean;
  readonly latencyMs?: number;
}

export interface CallRecord {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Undefined when no route matched. */
  readonly route: Route | undefined;
  /** 0 when a fault dropped the connection. */
  readonly status: number;
  readonly at: number;
  readonly authenticated: boolean;
  /** The bearer the call carried (the leaked token on per-token routes); in this process's memory only. */
  readonly bearer: string | undefined;
  readonly fault: string | undefined;
}

export interface CallFilter {
  readonly route?: Route;
  readonly status?: number;
  readonly bearer?: string;
}

export interface GitHubSimulator {
  /** The server's origin. */
  readonly url: string;
  /** What GITHUB_API_URL should be: the origin, plus /api/v3 in GHES mode. */
  readonly apiUrl: string;
  readonly mode: Mode;
  readonly adminToken: string;
  readonly faults: Faults;
  /** Issues a live token (or a dead one with `alive: false`). `survivesRevoke`: revocations are accepted but never take. */
  createToken(prefix: TokenPrefix, opts?: { alive?: boolean; survivesRevoke?: boolean }): string;
  isAlive(token: string): boolean;
  /** Every POST /credentials/revoke, oldest first. */
  revokeCalls(): RevokeCall[];
  calls(filter?: CallFilter): CallRecord[];
  /** Switches mode; the API prefix of `apiUrl` follows. */
  setMode(mode: Mode): void;
  setAdminToken(token: string): void;
  setRequestsPerHour(limit: number): void;
  setRevokeDelay(ms: number): void;
  setAutoCreate(enabled: boolean): void;
  /** Forgets tokens, calls, faults and the hourly window. */
  reset(): void;
  close(): Promise<void>;
}


class Simulator implements GitHubSimulator {
  url = '';
  readonly faults = new Faults();
  readonly server: Server;
  readonly #ctx: SimContext;
  #calls: CallRecord[] = [];
  #revokes: RevokeCall[] = [];

  constructor(private readonly opts: GitHubSimulatorOptions) {
    this.#ctx = {
      store: new TokenStore(opts.autoCreate ?? false),
      limit: new HourlyLimit(opts.requestsPerHour ?? 60),
      mode: opts.mode ?? 'dotcom',
      adminToken: opts.adminToken ?? makeToken('ghp_'),
      revokeDelayMs: opts.revokeDelayMs ?? 0,
      installationDelayMs: opts.installationDelayMs ?? 0,
      rateLimitStatus: opts.rateLimitStatus ?? 429,
    };
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  get apiUrl(): string {
    return this.url + this.#prefix;
  }
  get mode(): Mode {
    return this.#ctx.mode;
  }
  get adminToken(): string {
    return this.#ctx.adminToken;
  }
  get #prefix(): string {
    return this.#ctx.mode === 'ghes' ? '/api/v3' : '';
  }

  createToken = (prefix: TokenPrefix, opts: { alive?: boolean; survivesRevoke?: boolean } = {}): string => {
    const token = makeToken(prefix);
    this.#ctx.store.seed(token, opts);
    return token;
  };
  isAlive = (token: string): boolean => this.#ctx.store.live(token) !== undefined;
  revokeCalls = (): RevokeCall[] => [...this.#revokes];
  calls = (f: CallFilter = {}): CallRecord[] =>
    this.#calls.filter((c) => (f.route === undefined || c.route === f.route) && (f.status === undefined || c.status === f.status) && (f.bearer === undefined || c.bearer === f.bearer));
  setMode = (mode: Mode): void => {
    if (mode !== 'dotcom' && mode !== 'ghes') throw new Error(`GitHub simulator: mode must be dotcom or ghes, got ${String(mode)}`);
    this.#ctx.mode = mode;
  };
  setAdminToken = (token: string): void => {
    this.#ctx.adminToken = token;
  };
  setRequestsPerHour = (limit: number): void => {
    this.#ctx.limit.limit = limit;
  };
  setRevokeDelay = (ms: number): void => {
    this.#ctx.revokeDelayMs = ms;
  };
  setAutoCreate = (enabled: boolean): void => {
    this.#ctx.store.autoCreate = enabled;
  };
  reset = (): void => {
    this.#ctx.store.clear();
    this.#ctx.limit.reset();
    this.faults.clear();
    this.#calls = [];
    this.#revokes = [];
  };
  close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const raw = await readBody(req).catch(() => undefined);
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    const path = url.pathname.startsWith(this.#prefix) ? url.pathname.slice(this.#prefix.length) : undefined;
    const route = path === undefined ? undefined : routes.matchRoute(method, path);
    const fault = route && this.faults.take(route);
    const log = (status: number, count?: number, credentials?: readonly string[]) => {
      const authenticated = req.headers.authorization !== undefined;
      this.#calls.push({ seq: this.#calls.length + 1, method, path: url.pathname, route, status, at, authenticated, bearer: routes.bearerOf(req.headers), fault: fault?.type });
      if (route === 'revoke') this.#revokes.push({ at, status, count: count ?? 0, authenticated, credentials: credentials ?? [] });
    };
    if (fault?.type === 'drop') {
      log(0);
      req.socket.destroy();
      return;
    }
    const reply = raw === undefined ? { status: 413, body: { message: 'Payload too large' } } : fault ? routes.faultReply(fault) : this.#answer(route, req, raw);
    const sent = route === 'revoke' && raw !== undefined ? routes.credentialList(parseJson(raw)) : undefined;
    log(reply.status, sent?.length, sent);
    send(res, reply);
  }

  #answer(route: Route | undefined, req: IncomingMessage, raw: string): Reply {
    if (route === 'revoke') {
      const body = parseJson(raw);
      return body === undefined ? { status: 400, body: { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/rest' } } : routes.revoke(this.#ctx, req.headers, body);
    }
    if (route === 'user') return routes.user(this.#ctx, req.headers);
    if (route === 'installation_token') return routes.deleteInstallationToken(this.#ctx, req.headers);
    if (route === 'installation_repositories') return routes.installationRepositories(this.#ctx, req.headers);
    return NOT_FOUND;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  const payload = reply.body === undefined || reply.status === 204 ? '' : JSON.stringify(reply.body);
  const headers: Record<string, string> = { ...reply.headers, 'content-length': String(Buffer.byteLength(payload)) };
  if (payload.length > 0) headers['content-type'] = 'application/json; charset=utf-8';
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function validate(o: GitHubSimulatorOptions): void {
  if (o.mode !== undefined && o.mode !== 'dotcom' && o.mode !== 'ghes') throw new Error(`GitHub simulator: mode must be dotcom or ghes, got ${String(o.mode)}`);
  if (o.requestsPerHour !== undefined && (!Number.isInteger(o.requestsPerHour) || o.requestsPerHour < 0)) throw new Error(`GitHub simulator: requestsPerHour must be a non-negative integer, got ${o.requestsPerHour}`);
  if (o.rateLimitStatus !== undefined && o.rateLimitStatus !== 403 && o.rateLimitStatus !== 429) throw new Error('GitHub simulator: rateLimitStatus must be 403 or 429');
}

/** Starts a simulated GitHub on `host:port` (default 127.0.0.1 and a free port). */
export async function startGitHubSimulator(opts: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
  validate(opts);
  const sim = new Simulator(opts);
  const host = opts.host ?? '127.0.0.1';
  sim.url = `http://${host}:${await listenOn(sim.server, host, opts.port ?? 0)}`;
  return sim;
}
