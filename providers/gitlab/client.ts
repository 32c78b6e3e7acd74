// One HTTP client per GitLab instance: keep-alive, explicit timeouts, no client-level retries (the queue owns retries).
import { createHttpClient, send, type HttpAnswer, type HttpClient } from '../http-client.js';

export interface GitLabClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxSockets?: number;
  /** PEM bundle trusted for this instance (a private CA). */
  readonly ca?: string | undefined;
  /** Names the product and version, so GitLab admins can tell our calls apart. */
  readonly userAgent: string;
}

/** A raw answer: every status is returned, never thrown, so that one function can classify them all. */
export type Answer = HttpAnswer;

export function createGitLabClient(options: GitLabClientOptions): HttpClient {
  return createHttpClient({
    baseUrl: `${options.url.replace(/\/+$/, '')}/api/v4`,
    headers: { 'user-agent': options.userAgent, accept: 'application/json' },
    timeoutMs: options.timeoutMs,
    maxSockets: options.maxSockets ?? 64,
    ca: options.ca,
  });
}

/**
 * Sends one request (JSON body, or form-encoded for the runner endpoints), authenticated with `credential` when given.
 * Resolves with any answer; rejects only on network failure.
 */
export async function call(client: HttpClient, method: 'POST' | 'DELETE' | 'GET', path: string, credential: string | undefined, body?: object, form = false): Promise<Answer> {
  const headers = credential === undefined ? {} : { 'private-token': credential };
  return send(client, method, path, headers, body === undefined ? undefined : form ? { form: body as Record<string, string> } : { json: body });
}
