// The admin HTTP API under /admin/ (status, failed, show, replay, resolve, audit, pause) and Bull Board under
// /admin/queues, behind the admin credentials (ADMIN_API_TOKENS), which are separate from GitLab's.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { Router } from 'express';
import type { FailedFilter, Operations } from '../domain/ports.js';
import { AppError, InvalidRequestError, type ErrorDetail } from '../errors.js';
import { schemaPath } from '../paths.js';
import { adminActor, authenticateAdmin, type AdminCredential } from './admin/auth.js';
import { BOARD_PATH, bullBoard, type BoardQueue } from './admin/board.js';
import { jsonBody, requireJson } from './body.js';
import { methodNotAllowed } from './errors.js';
import { labelRoute } from './request-log.js';
import { STRICT_ROUTING } from './routing.js';

export type { AdminCredential } from './admin/auth.js';
export type { BoardQueue } from './admin/board.js';

export interface AdminDeps {
  readonly operations: Operations;
  /** Read per request, so that a reload of ADMIN_API_TOKENS takes effect at once. */
  readonly credentials: () => readonly AdminCredential[];
  /** The queues Bull Board shows, read-only and with job data redacted. */
  readonly queues: readonly BoardQueue[];
}

type Query = Readonly<Record<string, unknown>>;
type ReplayBody = { fingerprint?: string; filter?: { type?: string; instance?: string; reason?: string; since?: string | number }; all?: true };

const AUDIT_LIMIT_MAX = 1000;

/** Everything under /admin: mount with `app.use(adminRouter(...))` before the 404 handler. */
export function adminRouter(deps: AdminDeps, limits: { readonly maxBodyBytes: number; readonly maxJsonDepth: number }): Router {
  const ops = deps.operations;
  const router = Router(STRICT_ROUTING);
  const auth = authenticateAdmin(deps.credentials);
  const body = [requireJson, jsonBody(limits)];
  const validReplay = validator<ReplayBody>('admin-replay.schema.json');
  const validResolve = validator<{ reason: string }>('admin-resolve.schema.json');

  // Before the credential check, so that the board's 401s are counted under its label too.
  router.use(BOARD_PATH, labelRoute(BOARD_PATH));
  router.use('/admin', auth);

  router
    .route('/admin/status')
    .get(async (_req, res) => {
      res.json(await ops.status());
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/admin/failed')
    .get(async (req, res) => {
      const q = req.query as Query;
      res.json({ failed: await ops.failed(failedFilter({ type: text(q, 'type'), instance: text(q, 'instance'), reason: text(q, 'reason'), since: text(q, 'since') })) });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/admin/tokens/:fingerprint')
    .get(async (req, res) => {
      const view = await ops.show(String(req.params['fingerprint']));
      if (view === undefined) throw new AppError('not_found', 'no token record has this fingerprint');
      res.json(view);
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/admin/tokens/:fingerprint/resolve')
    .post(...body, async (req, res) => {
      const { reason } = validResolve(req.body);
      res.json(await ops.resolve(String(req.params['fingerprint']), reason.trim(), adminActor(res.locals)));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/admin/replay')
    .post(...body, async (req, res) => {
      const b = validReplay(req.body);
      // One token answers directly; many are replayed in the background, with a handle to poll.
      if (b.fingerprint !== undefined) {
        res.json({ queued: await ops.replay({ fingerprint: b.fingerprint }, adminActor(res.locals)) });
        return;
      }
      const run = await ops.startReplay(b.filter !== undefined ? { filter: failedFilter(b.filter) } : { all: true }, adminActor(res.locals));
      res.status(202).location(`/admin/replays/${run.id}`).json({ replay: run });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/admin/replays/:id')
    .get(async (req, res) => {
      const run = await ops.replayRun(String(req.params['id']));
      if (run === undefined) throw new AppError('not_found', 'no replay has this id (a replay is kept for a day after its start)');
      res.json({ replay: run });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/admin/audit')
    .get(async (req, res) => {
      const q = req.query as Query;
      const given = text(q, 'fingerprint');
      const since = text(q, 'since');
      const limit = text(q, 'limit');
      const filter = {
        ...(given === undefined ? {} : { fingerprint: await fullFingerprint(ops, given) }),
        ...(since === undefined ? {} : { since: time('since', since) }),
        ...(limit === undefined ? {} : { limit: integer('limit', limit, 1, AUDIT_LIMIT_MAX) }),
      };
      res.json({ entries: await ops.audit(filter) });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/admin/pause')
    .post(async (_req, res) => {
      await ops.pause(adminActor(res.locals));
      res.json({ paused: true });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/admin/resume')
    .post(async (_req, res) => {
      await ops.resume(adminActor(res.locals));
      res.json({ paused: false });
    })
    .all(methodNotAllowed('POST'));

  router.use(BOARD_PATH, bullBoard(deps.queues));
  return router;
}

/** A query parameter given at most once; empty counts as absent. */
function text(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidRequestError(`query parameter ${name} must be given once, as text`);
  const t = v.trim();
  return t.length === 0 ? undefined : t;
}

/** ISO time or epoch milliseconds. */
function time(name: string, value: string | number): number {
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidRequestError(`${name} must be an ISO time (e.g. 2026-01-31T12:00:00Z) or epoch milliseconds`);
  return ms;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidRequestError(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

function failedFilter(f: { type?: string | undefined; instance?: string | undefined; reason?: string | undefined; since?: string | number | undefined }): FailedFilter {
  return {
    ...(f.type === undefined ? {} : { type: f.type }),
    ...(f.instance === undefined ? {} : { instance: f.instance }),
    ...(f.reason === undefined ? {} : { reason: f.reason }),
    ...(f.since === undefined ? {} : { since: time('since', f.since) }),
  };
}

/** The audit trail is keyed by full fingerprints: a prefix is resolved through the token records (404 if none). */
async function fullFingerprint(ops: Operations, given: string): Promise<string> {
  const fp = given.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(fp)) throw new InvalidRequestError('a fingerprint is 8 to 64 hex characters');
  if (fp.length === 64) return fp;
  const view = await ops.show(fp);
  if (view === undefined) throw new AppError('not_found', `no token record starts with ${fp}`);
  return view.fingerprint;
}

/** Validates a body against one of schemas/; Ajv's messages name the rule broken, never the value. */
function validator<T>(schemaFile: string): (body: unknown) => T {
  const validate = new Ajv({ allErrors: true, strict: true }).compile<T>(JSON.parse(readFileSync(schemaPath(schemaFile), 'utf8')) as object);
  return (body) => {
    if (validate(body)) return body;
    const details = (validate.errors ?? []).slice(0, 20).map((e: ErrorObject): ErrorDetail => ({ path: e.instancePath || '/', message: e.message ?? 'is invalid' }));
    throw new InvalidRequestError(`The request body does not match ${schemaFile}`, details);
  };
}
