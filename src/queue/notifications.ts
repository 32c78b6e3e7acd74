// Optional webhook notifications (NOTIFY_WEBHOOK_URL): on revocation, on terminal failure and for on-call work, an
// incoming-webhook message, made durable as a BullMQ job in its own queue and POSTed by the workers with exponential backoff.
// A message carries the fingerprint's prefix, never the token or its ciphertext. The webhook URL can hold a secret
// (most do): it is never logged, and never part of an error message that BullMQ keeps.
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import { EVENT_OF, type NotifyEvent } from '../domain/events.js';
import { shortFingerprint } from '../domain/fingerprint.js';
import type { Logger } from '../logger.js';
import { followUpWorker, type FollowUpWorkerDeps } from './follow-up.js';
import { followUpJobOptions } from './jobs.js';
import type { JournalListener, Settled } from './journal.js';
import { createHttpClient, send, type HttpClient } from '../../providers/http-client.js';

export const NOTIFY_QUEUE = 'notifications';
export const NOTIFY_JOB_NAME = 'notify';

/** An incoming-webhook message in the common `text` + `blocks` shape (`text` is what receivers without blocks show). */
export interface WebhookMessage {
  readonly text: string;
  readonly blocks: ReadonlyArray<Record<string, unknown>>;
}

export interface NotificationJobData {
  readonly v: 1;
  readonly event: NotifyEvent;
  readonly message: WebhookMessage;
}

export const NOTIFY_JOB_OPTIONS: JobsOptions = followUpJobOptions(10, 1000);

/** The journal listener that turns each terminal result named in `on` into a notification job. */
export function notificationListener(queue: Queue<NotificationJobData>, on: readonly NotifyEvent[], logger: Logger): JournalListener {
  const wanted = new Set(on);
  return {
    async settled(result: Settled): Promise<void> {
      const event = EVENT_OF[result.status];
      if (event === undefined || !wanted.has(event)) return;
      // One notification per token and status: a repeated result (a job run twice) is absorbed by the job id.
      await queue
        .add(NOTIFY_JOB_NAME, { v: 1, event, message: webhookMessage(result) }, { jobId: `${result.fingerprint}-${result.status}` })
        .catch((err: Error) => logger.warn({ fp: shortFingerprint(result.fingerprint), err: err.message }, 'notification could not be queued'));
    },
  };
}

const TITLE: Readonly<Record<string, string>> = {
  revoked: ':white_check_mark: Leaked token revoked',
  reset: ':white_check_mark: Leaked token reset',
  deleted: ':white_check_mark: Leaked token deleted (with its runner)',
  already_gone: ':information_source: Leaked token was already revoked',
  not_found: ':grey_question: Leaked token not found on any instance',
  failed: ':rotating_light: Leaked token could NOT be revoked',
  needs_manual: ':rotating_light: Leaked secret needs manual revocation (no API can revoke it)',
  submitted: ':hourglass: Leaked token submitted for revocation (unconfirmed: nothing can prove it dead)',
};

/** The webhook markup (mrkdwn) needs only these three escaped. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The message for one result: fingerprint prefix, type, location, what the provider identified, instance, strategy, reason. */
export function webhookMessage(r: Settled): WebhookMessage {
  const title = TITLE[r.status] ?? `Leaked token: ${r.status}`;
  const owner = r.identified?.ownerId === undefined ? undefined : String(r.identified.ownerId);
  const identified = r.identified
    ? [r.identified.kind, r.identified.id === undefined ? undefined : `id ${String(r.identified.id)}`, r.identified.name === undefined ? undefined : `"${r.identified.name}"`].filter((x) => x !== undefined).join(' ')
    : undefined;
  const facts: Array<[string, string | undefined]> = [
    ['Fingerprint', `\`${shortFingerprint(r.fingerprint)}\``],
    ['Type', `\`${r.type}\``],
    ['Owner', owner],
    ['Identified', identified ? esc(identified) : undefined],
    ['Instance', r.instance === undefined ? undefined : esc(r.instance)],
    ['Strategy', r.strategy],
    ['Time to result', `${Math.round(r.elapsedMs / 1000)} s`],
  ];
  const fields = facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '').map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${clip(v, 500)}` }));
  const blocks: Array<Record<string, unknown>> = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
    { type: 'section', fields },
  ];
  if (r.location !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Location*\n${esc(clip(r.location, 1000))}` } });
  if (r.reason !== undefined) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${esc(clip(r.reason, 1000))}` } });
  const where = [r.instance && `on ${r.instance}`, r.strategy && `via ${r.strategy}`, owner && `owner ${owner}`].filter(Boolean).join(', ');
  const text = [`${title}: ${r.type} (fingerprint ${shortFingerprint(r.fingerprint)})${where ? `, ${where}` : ''}`, r.location && `at ${clip(r.location, 1000)}`, r.reason && `reason: ${clip(r.reason, 1000)}`]
    .filter(Boolean)
    .join('; ');
  return { text: esc(text), blocks };
}

export interface NotificationWorkerDeps extends FollowUpWorkerDeps {
  /** Secret: never logged. */
  readonly url: string;
  readonly timeoutMs: number;
}

/** POSTs each notification once per attempt (no client-level retries: the queue owns retries, with backoff). */
export function createNotificationWorker(deps: NotificationWorkerDeps): Worker<NotificationJobData> {
  // Connecting may take the whole request timeout, as before: no separate cap for the webhook.
  const client = createHttpClient({ timeoutMs: deps.timeoutMs, connectTimeoutMs: deps.timeoutMs });
  return followUpWorker<NotificationJobData>(NOTIFY_QUEUE, (job) => deliver(client, deps.url, job), deps, {
    fields: (job) => ({ event: job?.data.event }),
    final: 'webhook notification failed for good',
    retry: 'webhook notification failed; will retry',
  });
}

async function deliver(client: HttpClient, url: string, job: Job<NotificationJobData>): Promise<void> {
  let status: number;
  try {
    status = (await send(client, 'POST', url, {}, { json: job.data.message })).status;
  } catch (err) {
    // Only the error code in the message (kept by BullMQ, logged): a network error's message can name the URL, which can carry a secret.
    throw new Error(`webhook_unreachable: ${(err as { code?: string }).code ?? 'error'}`, { cause: err });
  }
  if (status < 200 || status >= 300) throw new Error(`webhook_http_${status}`);
}
