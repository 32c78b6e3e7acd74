// A simulated Slack Web API (auth.revoke only) on node:http: tokens that live and die, tier-3 rate limit, faults, call log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type SlackCall, type SlackCallFilter, SlackCallLog } from './calls.js';
import { type SlackFault, SlackFaults } from './faults.js';
import { isWellFormed, makeSlackToken, type SlackTokenKind } from './tokens.js';
import { listenOn, readBody } from '../http.js';

export interface SlackSimulatorOptions {
  /** Default 0: a free port on 127.0.0.1. */
  readonly port?: number;
  /** Sandbox mode: a well-formed token never seen is live. Default false: an unknown token is `invalid_auth`. */
  readonly autoCreate?: boolean;
  /** auth.revoke calls allowed per window (tier 3: default 50); beyond, 429 with Retry-After. */
  readonly perMinute?: number;
  /** The window's length; 60,000 ms unless a test shortens it. */
  readonly windowMs?: number;
}

export interface SlackSimulator {
  /** The Web API base, ending with `/api`: what SLACK_API_URL points at. */
  readonly url: string;
  readonly faults: SlackFaults;
  /** Mints a well-formed live token (default a bot token). */
  createToken(kind?: SlackTokenKind): string;
  /** Makes `token` known as live or dead (a revoked, expired or uninstalled one). */
  seed(token: string, alive?: boolean): void;
  isAlive(token: string): boolean;
  calls(filter?: SlackCallFilter): SlackCall[];
  /** Calls to auth.revoke, including refused, rate-limited and faulted ones. */
  revokeCalls(filter?: Omit<SlackCallFilter, 'path'>): SlackCall[];
  setAutoCreate(enabled: boolean): void;
  /** Forgets tokens, calls, faults and the rate window. */
  reset(): void;
  close(): Promise<void>;
}

const REVOKE_PATH = '/api/auth.revoke';

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What one call carried, once parsed. */
interface Parsed {
  readonly token: string | null;
  readonly tokenFrom: SlackCall['tokenFrom'];
  readonly test: boolean;
  readonly fields: readonly string[];
}

class Simulator implements SlackSimulator {
  url = '';
  readonly faults = new SlackFaults();
  readonly server: Server;
  readonly #tokens = new Map<string, boolean>();
  readonly #log = new SlackCallLog();
  readonly #timers = new Set<NodeJS.Timeout>();
  #window: number[] = [];
  #autoCreate: boolean;
  readonly #perMinute: number;
  readonly #windowMs: number;

  constructor(opts: SlackSimulatorOptions) {
    this.#autoCreate = opts.autoCreate ?? false;
    this.#perMinute = opts.perMinute ?? 50;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  createToken = (kind: SlackTokenKind = 'bot'): string => {
    const token = makeSlackToken(kind);
    this.#tokens.set(token, true);
    return token;
  };
  seed = (token: string, alive = true): void => void this.#tokens.set(token, alive);
  isAlive = (token: string): boolean => this.#tokens.get(token) === true;
  calls = (filter?: SlackCallFilter): SlackCall[] => this.#log.list(filter);
  revokeCalls = (filter: Omit<SlackCallFilter, 'path'> = {}): SlackCall[] => this.#log.list({ ...filter, path: REVOKE_PATH });
  setAutoCreate = (enabled: boolean): void => void (this.#autoCreate = enabled);

  reset = (): void => {
    this.#tokens.clear();
    this.#log.clear();
    this.faults.clear();
    this.#window = [];
  };

  close = async (): Promise<void> => {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections(); // keep-alive sockets would hold close() open
    await closed;
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://slack.invalid');
    const raw = await readBody(req).catch(() => '');
    const parsed = parse(req, url, raw);
    const record = (status: number, extra: { error?: string | null; revoked?: boolean; fault?: string | null } = {}): void =>
      this.#log.record({ at, method, path: url.pathname, status, ...parsed, error: extra.error ?? null, revoked: extra.revoked ?? false, fault: extra.fault ?? null, userAgent: req.headers['user-agent'] ?? null, contentType: req.headers['content-type'] ?? null });
    if (url.pathname !== REVOKE_PATH || (method !== 'POST' && method !== 'GET')) {
      const reply = url.pathname.startsWith('/api/') ? { status: 404, body: { ok: false, error: 'unknown_method' } } : { status: 404, body: 'Not Found' };
      record(reply.status, { error: 'unknown_method' });
      return send(res, reply);
    }
    const fault = this.faults.take();
    if (fault && fault.type !== 'slow') return this.#faulted(fault, parsed, req, res, record);
    if (fault) await this.#sleep(fault.ms);
    if (!this.#admit()) return this.#faulted({ type: 'rate_limit', retryAfterSeconds: this.#retryAfterSeconds() }, parsed, req, res, record, 'rate_limit');
    const { reply, revoked } = this.#revoke(parsed);
    record(reply.status, { error: errorOf(reply.body), revoked, fault: fault?.type ?? null });
    send(res, reply);
  }

  #faulted(fault: Exclude<SlackFault, { type: 'slow' }>, parsed: Parsed, req: IncomingMessage, res: ServerResponse, record: (status: number, extra?: { error?: string | null; revoked?: boolean; fault?: string | null }) => void, name: string = fault.type): void {
    if (fault.type === 'drop' || fault.type === 'drop_after') {
      const revoked = fault.type === 'drop_after' && this.#revoke(parsed).revoked;
      record(0, { revoked, fault: name });
      req.socket.destroy();
      return;
    }
    const reply: Reply =
      fault.type === 'rate_limit'
        ? { status: 429, headers: { 'Retry-After': String(fault.retryAfterSeconds) }, body: { ok: false, error: 'ratelimited' } }
        : fault.type === 'api_error'
          ? { status: 200, body: { ok: false, error: fault.error } }
          : { status: fault.status, headers: fault.headers, body: fault.body };
    record(reply.status, { error: errorOf(reply.body), fault: name });
    send(res, reply);
  }

  /** The real auth.revoke: the token authenticates the call, and dies unless it is a dry run. */
  #revoke({ token, test }: Parsed): { reply: Reply; revoked: boolean } {
    if (token === null) return { reply: { status: 200, body: { ok: false, error: 'not_authed' } }, revoked: false };
    if (!this.#tokens.has(token) && this.#autoCreate && isWellFormed(token)) this.#tokens.set(token, true);
    if (this.#tokens.get(token) !== true) return { reply: { status: 200, body: { ok: false, error: 'invalid_auth' } }, revoked: false };
    if (test) return { reply: { status: 200, body: { ok: true, revoked: false } }, revoked: false };
    this.#tokens.set(token, false);
    return { reply: { status: 200, body: { ok: true, revoked: true } }, revoked: true };
  }

  /** A sliding window: no `windowMs` ever holds more than `perMinute` admitted calls. */
  #admit(now = Date.now()): boolean {
    this.#window = this.#window.filter((t) => t > now - this.#windowMs);
    if (this.#window.length >= this.#perMinute) return false;
    this.#window.push(now);
    return true;
  }

  /** Whole seconds until the oldest admitted call leaves the window (Slack sends seconds), at least 1. */
  #retryAfterSeconds(now = Date.now()): number {
    const oldest = this.#window[0] ?? now;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }
}

/** Header first (Slack's preferred way), then the form field, then the query string; `test=true|1` is a dry run. */
function parse(req: IncomingMessage, url: URL, raw: string): Parsed {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const form = type === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw) : new URLSearchParams();
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  const [token, tokenFrom] = bearer ? [bearer, 'header' as const] : form.get('token') ? [form.get('token'), 'form' as const] : url.searchParams.get('token') ? [url.searchParams.get('token'), 'query' as const] : [null, null];
  const test = form.get('test') ?? url.searchParams.get('test');
  return { token, tokenFrom, test: test === 'true' || test === '1', fields: [...new Set(form.keys())] };
}

/** Slack answers JSON; a string body stands for an upstream's HTML page. */
function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': isText ? 'text/html' : 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(payload)), ...reply.headers });
  res.end(payload);
}

const errorOf = (body: unknown): string | null => {
  const e = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof e === 'string' ? e : null;
};

function validate(o: SlackSimulatorOptions): void {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) throw new Error(`Slack simulator: port must be an integer 0..65535, got ${o.port}`);
  if (o.perMinute !== undefined && (!Number.isInteger(o.perMinute) || o.perMinute < 1)) throw new Error(`Slack simulator: perMinute must be a positive integer, got ${o.perMinute}`);
  if (o.windowMs !== undefined && !(Number.isFinite(o.windowMs) && o.windowMs > 0)) throw new Error(`Slack simulator: windowMs must be a positive number, got ${o.windowMs}`);
}

/** Starts a simulated Slack on 127.0.0.1 (a free port unless `port`); `url` ends with `/api`. */
export async function startSlackSimulator(opts: SlackSimulatorOptions = {}): Promise<SlackSimulator> {
  validate(opts);
  const sim = new Simulator(opts);
  sim.url = `http://127.0.0.1:${await listenOn(sim.server, '127.0.0.1', opts.port ?? 0)}/api`;
  return sim;
}
