// Token records as GitLab's API entities present them (lenient: the fields a client is likely to read).
import { isExpired, type TokenRecord } from '../state.js';

type Entity = Record<string, unknown>;

function personalAccessToken(rec: TokenRecord): Entity {
  const entity: Entity = {
    id: rec.id,
    name: rec.name,
    revoked: rec.revoked,
    created_at: rec.createdAt,
    description: null,
    scopes: rec.scopes,
    user_id: rec.userId,
    last_used_at: rec.lastUsedAt,
    active: !rec.revoked && !isExpired(rec),
    expires_at: rec.expiresAt,
  };
  // Project and group tokens are ResourceAccessTokens, which add the member's access level.
  if (rec.subkind === 'project' || rec.subkind === 'group') entity['access_level'] = 40;
  return entity;
}

function runner(rec: TokenRecord): Entity {
  return {
    id: rec.id,
    description: rec.name,
    ip_address: null,
    active: !rec.revoked,
    paused: rec.revoked,
    is_shared: true,
    runner_type: 'instance_type',
    name: null,
    online: false,
    status: 'never_contacted',
  };
}

/** Feed and incoming-email tokens belong to a user, so GitLab presents the user. */
function user(rec: TokenRecord): Entity {
  return { id: rec.userId, username: `user${rec.userId}`, name: `User ${rec.userId}`, state: 'active', locked: false, avatar_url: null };
}

const PRESENTERS: Partial<Record<TokenRecord['kind'], (rec: TokenRecord) => Entity>> = {
  personal_access_token: personalAccessToken,
  runner_authentication_token: runner,
  feed_token: user,
  incoming_email_token: user,
  deploy_token: (rec) => ({
    id: rec.id,
    name: rec.name,
    username: `gitlab+deploy-token-${rec.id}`,
    expires_at: rec.expiresAt,
    scopes: rec.scopes,
    revoked: rec.revoked,
    expired: isExpired(rec),
  }),
  cluster_agent_token: (rec) => ({
    id: rec.id,
    agent_id: rec.id,
    name: rec.name,
    description: null,
    status: rec.revoked ? 'revoked' : 'active',
    created_at: rec.createdAt,
    created_by_user_id: rec.userId,
    last_used_at: rec.lastUsedAt,
  }),
  pipeline_trigger_token: (rec) => ({
    id: rec.id,
    description: rec.name,
    created_at: rec.createdAt,
    updated_at: rec.createdAt,
    last_used: rec.lastUsedAt,
    expires_at: rec.expiresAt,
    owner: { id: rec.userId },
  }),
  oauth_application_secret: (rec) => ({
    id: rec.id,
    application_id: `app${rec.id}`,
    application_name: rec.name,
    callback_url: 'http://localhost/callback',
    confidential: true,
  }),
  ci_job_token: (rec) => ({ id: rec.id, name: rec.name, status: 'running', ref: 'main', user: { id: rec.userId } }),
};

export function present(rec: TokenRecord): Entity {
  const presenter = PRESENTERS[rec.kind];
  return presenter ? presenter(rec) : { id: rec.id, name: rec.name, revoked: rec.revoked, active: !rec.revoked && !isExpired(rec) };
}
