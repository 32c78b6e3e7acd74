// Bull Board under /admin/queues: read-only (replays go through the audited admin API), job data redacted. Its
// packages are loaded on the board's first request, not at start (see lazyBoard).
import type { createBullBoard } from '@bull-board/api';
import type { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { Router, type Express, type RequestHandler } from 'express';

/** A queue Bull Board can show (a BullMQ Queue), typed through the adapter so the HTTP edge imports no queue library. */
export type BoardQueue = ConstructorParameters<typeof BullMQAdapter>[0];

type ServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

export const BOARD_PATH = '/admin/queues';

/** What stands in for a job's ciphertext. */
export const SEALED_PLACEHOLDER = '[encrypted]';

/** Job data fields that hold no secret (revocation and intake jobs): shown as they are. */
const VISIBLE_DATA = new Set(['v', 'fp', 'type', 'location', 'acceptedAt', 'count']);
/** Return value fields that hold no secret (RevocationJobResult, fan-out counts). */
const VISIBLE_RESULT = new Set(['status', 'via', 'queued', 'known']);

/**
 * An allow-list, not a deny-list: `sealed` becomes a placeholder and any field this service does not know is
 * withheld, so that a future field holding a secret is hidden until someone decides otherwise.
 */
export function redact(value: unknown, visible: ReadonlySet<string> = VISIBLE_DATA): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value === undefined || value === null ? value : '[redacted]';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'sealed') out[k] = SEALED_PLACEHOLDER;
    else if (visible.has(k) && (v === null || typeof v !== 'object')) out[k] = v;
    else out[k] = '[redacted]';
  }
  return out;
}

/**
 * An admin page makes no request to another host (the board's page links Google Fonts; the fonts fall back to the
 * system's). Inline styles are allowed: the page's loading placeholder and React's style attributes use them. No
 * inline or foreign script: the page's only inline script is a JSON data block, which CSP does not govern.
 */
export const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `<link>` elements (stylesheets, preconnects) to an absolute or protocol-relative URL: another host. */
const FOREIGN_LINK = /<link\b[^>]*\bhref\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:)?\/\/[^>]*>\s*/gi;

export const withoutForeignLinks = (html: string): string => html.replace(FOREIGN_LINK, '');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({ 'Content-Security-Policy': BOARD_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  next();
};

/** The board renders its page with res.render: the rendered HTML goes out without links to other hosts. */
const ownHostOnly: RequestHandler = (_req, res, next) => {
  const render = res.render.bind(res);
  const filtered = (view: string, options?: object): void =>
    render(view, options ?? {}, (err: Error | null, html?: string) => {
      if (err) next(err);
      else res.send(withoutForeignLinks(html ?? ''));
    });
  res.render = filtered as typeof res.render;
  next();
};

/** The board, to mount at BOARD_PATH behind the admin credentials. */
export function bullBoard(queues: readonly BoardQueue[]): Router {
  return Router().use(securityHeaders, ownHostOnly, lazyBoard(queues));
}

/**
 * Bull Board's packages (@bull-board/api, its Express adapter and their ejs, UI routes and assets: about 5 MB of RSS)
 * are imported on the first request that reaches the board, i.e. past the admin credentials: most processes with the
 * admin API on never serve the board, and a ROLE=worker never does.
 */
function lazyBoard(queues: readonly BoardQueue[]): RequestHandler {
  let board: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    board ??= createBoard(queues);
    board.then(
      (handle) => {
        try {
          handle(req, res, next);
        } catch (err) {
          next(err); // not an unhandled rejection: Node would exit
        }
      },
      (err: unknown) => {
        board = undefined; // a failed load is tried again by the next request
        next(err);
      },
    );
  };
}

async function createBoard(queues: readonly BoardQueue[]): Promise<RequestHandler> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([import('@bull-board/api'), import('@bull-board/api/bullMQAdapter'), import('@bull-board/express')]);
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapters = queues.map((q) => {
    const adapter = new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false });
    adapter.setFormatter('data', (data: unknown) => redact(data));
    adapter.setFormatter('returnValue', (rv: unknown) => redact(rv, VISIBLE_RESULT));
    return adapter;
  });
  // @bull-board/express 9.10.1 declares its adapter against its own copy of @bull-board/api (9.10.1), whose private
  // fields make the types differ from 9.10.2's; at run time the adapter uses nothing of that copy.
  createBullBoard({ queues: adapters, serverAdapter: serverAdapter as unknown as ServerAdapter, options: { uiConfig: { boardTitle: 'Token Revocation API' } } });
  const app = serverAdapter.getRouter() as Express;
  app.disable('x-powered-by');
  return app;
}
