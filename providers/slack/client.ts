// One got client for Slack's Web API: keep-alive, a timeout, our User-Agent, no got-level retries (the queue owns them).
import type { Got } from 'got';
import { createHttpClient } from '../http-client.js';

/** A raw answer: every status is returned, never thrown, so that one function classifies them all. */
export interface SlackAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface SlackClientOptions {
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly maxSockets: number;
}

export function createSlackClient(o: SlackClientOptions): Got {
  return createHttpClient({ baseUrl: o.apiUrl, headers: { 'user-agent': o.userAgent, accept: 'application/json' }, timeoutMs: o.timeoutMs, maxSockets: o.maxSockets });
}

/**
 * `POST auth.revoke`, authenticated by the leaked token itself (Slack's preferred way: a header, not a form field),
 * with an empty form body: no `test` field, so it is a real revocation. Rejects only on network failure.
 */
export async function authRevoke(client: Got, token: string): Promise<SlackAnswer> {
  const response = await client.post('auth.revoke', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
    responseType: 'text',
  });
  return { status: response.statusCode, headers: response.headers, body: response.body };
}
