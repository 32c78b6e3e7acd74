// Vulnerability feedback on GitLab (issue 14): a note on the vulnerability of a finding, and optionally resolving it,
// through GitLab's GraphQL API (`POST {instance}/api/graphql`) with the instance's live admin credential.
//
// Verified against GitLab's public sources (gitlabhq/gitlabhq):
// - app/graphql/mutations/notes/create/base.rb and create/note.rb: `createNote(input: { noteableId: NoteableID!,
//   body: String! })` (plus optional `discussionId`, `mergeRequestDiffHeadSha`, and the confidentiality flag,
//   `confidential` in older versions, `internal` in newer: not sent, so every version accepts the call); it answers
//   `{ note, errors }`, `note` null when not persisted, and raises ResourceNotAvailable ("This endpoint has been
//   requested too many times") when throttled.
// - ee/app/graphql/ee/types/notes/noteable_interface.rb resolves `::Vulnerability` to Types::VulnerabilityType, so a
//   `gid://gitlab/Vulnerability/<id>` is an accepted noteable (EE, Ultimate); GitLab's generated client schemas list
//   Vulnerability among NoteableInterface's implementations.
// - ee/app/graphql/mutations/vulnerabilities/resolve.rb: `vulnerabilityResolve(input: { id: VulnerabilityID! })`,
//   newer versions with an optional `comment: String`; answers `{ vulnerability, errors }`.
// A GitLab without them (CE, no licence, an older version) answers 200 with a top-level `errors` entry ("Field
// 'vulnerabilityResolve' doesn't exist on type 'Mutation'", "... doesn't accept argument 'comment'", or "The resource
// that you are attempting to access does not exist or you don't have permission ..."): remembered as unavailable for
// UNAVAILABLE_RECHECK_MINUTES, and skipped without a call meanwhile.
import type { VulnerabilityRef } from '../../src/domain/vulnerability.js';
import type { CredentialSource, FeedbackResult, OutboundLimiter, VulnerabilityFeedback } from '../contract.js';
import type { Availability, InstanceSettings } from './instance.js';
import { createHttpClient, send, type HttpAnswer, type HttpClient } from '../http-client.js';

const CREATE_NOTE = `mutation TrapiCreateNote($noteableId: NoteableID!, $body: String!) {
  createNote(input: { noteableId: $noteableId, body: $body }) { note { id } errors }
}`;
const RESOLVE = `mutation TrapiResolveVulnerability($id: VulnerabilityID!, $comment: String) {
  vulnerabilityResolve(input: { id: $id, comment: $comment }) { vulnerability { id state } errors }
}`;

/** Top-level errors that say this GitLab cannot do it at all (schema, licence, permission): remembered. */
const ABSENT = /doesn't exist on type|doesn't accept argument|isn't a defined input type|does not exist or you don't have permission|does not represent an instance of|not a valid (global )?id|invalid global id/i;
/** GitLab's throttle of note creation, although it comes as ResourceNotAvailable: retried, never remembered. */
const THROTTLED = /too many times|rate limit/i;

export interface FeedbackSettings {
  readonly instance: Pick<InstanceSettings, 'name' | 'url' | 'limits'> & { readonly ca: string | undefined };
  readonly actions: readonly ('note' | 'resolve')[];
  readonly timeoutMs: number;
  readonly userAgent: string;
}

export const vulnerabilityGid = (id: number): string => `gid://gitlab/Vulnerability/${id}`;

export class GitLabVulnerabilityFeedback implements VulnerabilityFeedback {
  readonly #client: HttpClient;
  readonly #limits: { readonly perSecond: number; readonly concurrency: number };
  /** Mutations seen to work here: from then on their calls run side by side. */
  readonly #works = new Set<string>();
  /** The last call of each mutation not yet seen to work: the next one waits for it. */
  readonly #probing = new Map<string, Promise<void>>();

  constructor(
    private readonly settings: FeedbackSettings,
    private readonly limiter: OutboundLimiter,
    private readonly availability: Availability,
    private readonly credentials: CredentialSource,
  ) {
    const { instance } = settings;
    this.#client = createHttpClient({ baseUrl: instance.url, headers: { 'user-agent': settings.userAgent, accept: 'application/json' }, timeoutMs: settings.timeoutMs, maxSockets: 4, ca: instance.ca });
    // Its own slots, at most half the instance's rate: feedback never takes a revocation's place in the limiter.
    this.#limits = { perSecond: Math.max(1, instance.limits.perSecond / 2), concurrency: Math.max(1, Math.floor(instance.limits.concurrency / 4)) };
  }

  get actions(): readonly ('note' | 'resolve')[] {
    return this.settings.actions;
  }

  get instance(): string {
    return this.settings.instance.name;
  }

  note(vulnerability: VulnerabilityRef, body: string): Promise<FeedbackResult> {
    return this.#mutate('createNote', CREATE_NOTE, { noteableId: vulnerabilityGid(vulnerability.id), body });
  }

  resolve(vulnerability: VulnerabilityRef, comment: string): Promise<FeedbackResult> {
    return this.#mutate('vulnerabilityResolve', RESOLVE, { id: vulnerabilityGid(vulnerability.id), comment });
  }

  /**
   * Until a mutation is seen to work on this instance, its calls go one at a time: a GitLab without it is found by
   * one call, not by as many as run at once. Afterwards they run side by side.
   */
  async #mutate(field: 'createNote' | 'vulnerabilityResolve', query: string, variables: Record<string, unknown>): Promise<FeedbackResult> {
    if (this.#works.has(field)) return this.#call(field, query, variables);
    const before = this.#probing.get(field) ?? Promise.resolve();
    const mine = before.then(() => this.#call(field, query, variables));
    this.#probing.set(field, mine.then(() => undefined, () => undefined));
    const result = await mine;
    if (result.result === 'ok') this.#works.add(field);
    return result;
  }

  async #call(field: 'createNote' | 'vulnerabilityResolve', query: string, variables: Record<string, unknown>): Promise<FeedbackResult> {
    const key = `${this.instance}:feedback:${field}`;
    const remembered = this.availability.unavailable(key);
    if (remembered) return { result: 'unavailable', reason: `${remembered.reason} (remembered; skipped)` };
    const credential = this.credentials.get(this.instance, 'admin');
    if (credential === undefined) return { result: 'unavailable', reason: 'no_admin_credential' };
    let answer: HttpAnswer;
    try {
      answer = await this.limiter.run(`${this.instance}:feedback`, this.#limits, () => send(this.#client, 'POST', 'api/graphql', { authorization: `Bearer ${credential}` }, { json: { query, variables } }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { result: 'failed', reason: `network: ${typeof code === 'string' ? code : (err as Error).name}` };
    }
    const verdict = classifyGraphql(field, answer);
    if (verdict.result === 'unavailable') this.availability.markUnavailable(key, { reason: verdict.reason, summary: verdict.reason });
    return verdict;
  }
}

/** One GraphQL answer as a FeedbackResult. Summaries are GitLab's own messages, clipped; never the credential. */
export function classifyGraphql(field: string, answer: { status: number; body: string }): FeedbackResult {
  const { status } = answer;
  if (status === 404) return { result: 'unavailable', reason: 'http_404: no GraphQL endpoint' };
  if (status !== 200) return { result: 'failed', reason: `http_${status}`, ...(status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 408 && status !== 429 ? { final: true } : {}) };
  let json: { data?: Record<string, { errors?: unknown } | null> | null; errors?: Array<{ message?: unknown }> };
  try {
    json = JSON.parse(answer.body) as typeof json;
  } catch {
    return { result: 'failed', reason: 'malformed_answer: not JSON' };
  }
  const top = (Array.isArray(json.errors) ? json.errors : []).map((e) => String(e.message ?? '')).join('; ').replace(/\s+/g, ' ').slice(0, 300);
  if (top.length > 0) {
    if (THROTTLED.test(top)) return { result: 'failed', reason: `throttled: ${top}` };
    if (ABSENT.test(top)) return { result: 'unavailable', reason: `graphql_unavailable: ${top}` };
    return { result: 'failed', reason: `graphql_error: ${top}` };
  }
  const payload = json.data?.[field];
  if (payload === undefined || payload === null) return { result: 'failed', reason: `malformed_answer: no ${field} in the answer` };
  const errors = Array.isArray(payload.errors) ? payload.errors.map(String) : [];
  // GitLab refused the content (validation): the same call would be refused again.
  if (errors.length > 0) return { result: 'failed', reason: `mutation_errors: ${errors.join('; ').slice(0, 300)}`, final: true };
  return { result: 'ok' };
}
