// Bull Board under /admin/queues: read-only (replays go through the audited admin API), job data redacted.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';

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

/** The board's Express app, to mount at BOARD_PATH behind the admin credentials. */
export function bullBoard(queues: readonly BoardQueue[]): Express {
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
