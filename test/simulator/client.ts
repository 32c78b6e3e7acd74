// Test helper: one HTTP call to the simulator with Node's fetch, answer parsed as JSON when it is JSON.
import type { GitLabSimulator } from '../../simulator/index.js';

export interface CallOptions {
  /** Sent as PRIVATE-TOKEN unless `bearer` is set. */
  token?: string;
  bearer?: boolean;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON, the raw text for other types, '' for an empty body. */
  body: unknown;
  text: string;
}

export async function call(sim: GitLabSimulator, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) {
    if (opts.bearer) headers['Authorization'] = `Bearer ${opts.token}`;
    else headers['PRIVATE-TOKEN'] = opts.token;
  }
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(sim.url + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
  return { status: res.status, headers: res.headers, text, body: isJson && text ? (JSON.parse(text) as unknown) : text };
}

/** `POST|DELETE /api/v4/admin/token` with the simulator's admin credential unless another is given. */
export function adminToken(sim: GitLabSimulator, method: 'POST' | 'DELETE', token: string, credential = sim.adminToken): Promise<Answer> {
  return call(sim, method, '/api/v4/admin/token', { token: credential, json: { token } });
}
