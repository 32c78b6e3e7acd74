// One HTTP client for Slack's Web API: keep-alive, a timeout, our User-Agent, no client-level retries (the queue owns them).
import { createHttpClient, send, type HttpAnswer, type HttpClient } from '../http-client.js';

/** A raw answer: every status is returned, never thrown, so that one function classifies them all. */
export type SlackAnswer = HttpAnswer;

export interface SlackClientOptions {
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly maxSockets: number;
}

export function createSlackClient(o: SlackClientOptions): HttpClient {
  return createHttpClient({ baseUrl: o.apiUrl, headers: { 'user-agent': o.userAgent, accept: 'application/json' }, timeoutMs: o.timeoutMs, maxSockets: o.maxSockets });
}

/**
 * `POST auth.revoke`, authenticated by the leaked token itself (Slack's preferred way: a header, not a form field),
 * with an empty form body: no `test` field, so it is a real revocation. Rejects only on network failure.
 */
export async function authRevoke(client: HttpClient, token: string): Promise<SlackAnswer> {
  return send(client, 'POST', 'auth.revoke', { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, { body: '' });
}
