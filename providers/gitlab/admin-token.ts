// Provider: the host instance's Admin Token API. Identify with POST /admin/token, then revoke with DELETE /admin/token.
import type { Got } from 'got';
import type { Identified, Outcome } from '../../src/domain/outcome.js';
import type { TokenKind } from '../../src/domain/token-kinds.js';
import type { Provider, RevokeRequest } from '../contract.js';
import { call } from './client.js';
import { classify, type Classified } from './classify.js';

/** What DELETE does to each kind (GitLab resets runner tokens, keeping the runner, and revokes the rest). */
const ACTION: Readonly<Record<TokenKind, 'revoked' | 'reset'>> = {
  personal_access_token: 'revoked',
  runner_authentication_token: 'reset',
};

export class AdminTokenProvider implements Provider {
  readonly name = 'gitlab_admin';
  readonly kinds: readonly TokenKind[] = ['personal_access_token', 'runner_authentication_token'];

  constructor(
    private readonly client: Got,
    private readonly adminToken: string,
  ) {}

  async revoke({ token, kind }: RevokeRequest): Promise<Outcome> {
    const identify = await this.#send('POST', token);
    if (identify.verdict === 'not_found') return { status: 'not_found', via: this.name };
    if (identify.verdict !== 'ok') return this.#failure(identify);
    const identified = identifiedFrom(identify.json);
    if (isInactive(identify.json)) return { status: 'already_gone', via: this.name, identified };

    const revoke = await this.#send('DELETE', token);
    if (revoke.verdict === 'ok') return { status: ACTION[kind], via: this.name, identified };
    if (revoke.verdict === 'not_found') return { status: 'already_gone', via: this.name, identified };
    if (revoke.verdict === 'permanent') return this.#afterRefusedRevoke(token, identified, revoke);
    return this.#failure(revoke);
  }

  /** A refused DELETE may mean someone revoked it between our two calls: look again before calling it a failure. */
  async #afterRefusedRevoke(token: string, identified: Identified, refused: Classified): Promise<Outcome> {
    const again = await this.#send('POST', token);
    if (again.verdict === 'not_found' || (again.verdict === 'ok' && isInactive(again.json))) {
      return { status: 'already_gone', via: this.name, identified };
    }
    return this.#failure(refused);
  }

  async #send(method: 'POST' | 'DELETE', token: string): Promise<Classified> {
    try {
      return classify(await call(this.client, method, 'admin/token', this.adminToken, { token }), [token, this.adminToken]);
    } catch (err) {
      return classify(err as Error);
    }
  }

  #failure(c: Classified): Outcome {
    switch (c.verdict) {
      case 'rate_limited':
        return { status: 'rate_limited', retryAfterMs: c.retryAfterMs, summary: c.summary };
      case 'transient':
        return { status: 'transient', reason: c.reason, summary: c.summary };
      case 'credential_rejected':
        return { status: 'credential_rejected', reason: c.reason, summary: c.summary };
      case 'unavailable':
        return { status: 'permanent', reason: `admin_api_unavailable:${c.reason}`, summary: c.summary };
      default:
        return { status: 'permanent', reason: c.reason, summary: c.summary };
    }
  }
}

type Record_ = Record<string, unknown>;
const asRecord = (json: unknown): Record_ => (typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record_) : {});

/** Only token records carry `revoked`; a runner entity's `active` is about the runner, not its token. */
function isInactive(json: unknown): boolean {
  const r = asRecord(json);
  return 'revoked' in r && (r['revoked'] === true || r['active'] === false);
}

function identifiedFrom(json: unknown): Identified {
  const r = asRecord(json);
  const pick = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? v : undefined);
  const id = pick(r['id']);
  const ownerId = pick(r['user_id']);
  const name = pick(r['name'] ?? r['description']);
  return {
    kind: 'revoked' in r ? 'access_token' : 'runner_type' in r ? 'runner' : 'unknown',
    ...(id === undefined ? {} : { id }),
    ...(ownerId === undefined ? {} : { ownerId }),
    ...(name === undefined ? {} : { name: String(name).slice(0, 100) }),
  };
}
