// One HTTP client for GitHub (or a GHES host): keep-alive, explicit timeouts, no client-level retries (the queue owns retries).
import { createHttpClient, send, type HttpAnswer, type HttpClient } from '../http-client.js';

export interface GitHubClientOptions {
  /** `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly maxSockets?: number;
}

/** A raw answer: every status is returned, never thrown, so that one function can classify them all. */
export type Answer = HttpAnswer;

export function createGitHubClient(options: GitHubClientOptions): HttpClient {
  return createHttpClient({
    baseUrl: options.apiUrl,
    // GitHub refuses calls without a User-Agent; the version header pins the REST API's behaviour.
    headers: { 'user-agent': options.userAgent, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    timeoutMs: options.timeoutMs,
    maxSockets: options.maxSockets ?? 32,
  });
}

/** Sends one request, as `bearer` when given (never otherwise). Resolves with any answer; rejects only on network failure. */
export async function call(client: HttpClient, method: 'POST' | 'DELETE' | 'GET', path: string, bearer: string | undefined, body?: object): Promise<Answer> {
  return send(client, method, path, bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }, body === undefined ? undefined : { json: body });
}

/** api.github.com wants the revoke call unauthenticated (an authenticated one gets 403); only GHES takes our token. */
export function isDotcom(apiUrl: string): boolean {
  try {
    return new URL(apiUrl).hostname.toLowerCase() === 'api.github.com';
  } catch {
    return false;
  }
}
