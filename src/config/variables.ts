// Every environment variable the service reads: the single list that validation, defaults and the README table come from.
import { ROTATION_SETTING } from '../domain/credentials.js';

/** One environment variable: its JSON Schema, default and documentation. */
export interface Variable {
  readonly name: string;
  readonly description: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly default?: string | number | boolean;
  /** Also readable from the file named by `<name>_FILE` (Docker and Kubernetes secrets). */
  readonly file?: boolean;
  /** Never printed, logged or echoed. */
  readonly secret?: boolean;
  /** What a valid value looks like, in words, for error messages (else derived from the schema: ranges, enums). */
  readonly expected?: string;
  /** A URL: parsed with new URL() at start-up, as its user will, and its protocol one of these. */
  readonly url?: readonly string[];
}

const ROTATION_EXPECTED = 'off, personal, project:<id> or group:<id>';
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });
const str = { type: 'string', minLength: 1 };

export const VARIABLES: readonly Variable[] = [
  { name: 'PORT', description: 'TCP port of the HTTP API.', schema: int(0, 65535), default: 8080 },
  { name: 'HOST', description: 'Address the HTTP API listens on.', schema: str, default: '0.0.0.0' },
  {
    name: 'ROLE',
    description: '`all` runs the API and the worker in one process; `api` and `worker` run one of them (scale them separately).',
    schema: { type: 'string', enum: ['all', 'api', 'worker'] },
    default: 'all',
  },
  {
    name: 'REDIS_URL',
    description: 'Redis to use (`redis://` or `rediss://`). Unset: the service starts its own `redis-server` with append-only persistence under `DATA_DIR`.',
    schema: { type: 'string', pattern: '^rediss?://' },
    file: true,
    secret: true,
    expected: 'a redis:// or rediss:// URL, e.g. redis://:password@redis.internal:6379',
    url: ['redis:', 'rediss:'],
  },
  {
    name: 'REDIS_SENTINELS',
    description: 'Comma-separated `host:port` of the Redis Sentinels that monitor the master (`REDIS_SENTINEL_MASTER`); every connection follows the master through a failover. The data nodes\' password, user and TLS (`rediss://`) come from `REDIS_URL`, whose host is then not used. Exclusive with `REDIS_CLUSTER_NODES`.',
    schema: str,
    expected: 'a comma-separated list of host:port, e.g. sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
  },
  { name: 'REDIS_SENTINEL_MASTER', description: 'Name of the master group the sentinels monitor (`sentinel monitor <name> ...`).', schema: str, default: 'mymaster' },
  { name: 'REDIS_SENTINEL_PASSWORD', description: 'Password of the sentinels themselves (`requirepass` in sentinel.conf), if they have one.', schema: str, file: true, secret: true },
  {
    name: 'REDIS_CLUSTER_NODES',
    description: 'Comma-separated seed `host:port` of a Redis Cluster (the rest are discovered). Password, user and TLS as for `REDIS_SENTINELS`. Exclusive with `REDIS_SENTINELS`.',
    schema: str,
    expected: 'a comma-separated list of host:port, e.g. redis-1:6379,redis-2:6379,redis-3:6379',
  },
  {
    name: 'REDIS_MIN_REPLICAS_ACK',
    description: 'Replicas that must acknowledge (`WAIT`, at most 1.5 s, inside the request\'s 5 s deadline) an accepted batch, an on-call replay or resolve and a stored rotation successor before it is confirmed; not acknowledged: `503 store_unavailable` (GitLab resends; the resend is idempotent). Unset: 1 when the master has a connected replica at start-up, else 0 (with a warning outside sandbox mode).',
    schema: int(0, 100),
  },
  { name: 'DATA_DIR', description: 'Where the embedded Redis and sandbox secrets are kept.', schema: str, default: './data' },
  {
    name: 'REVOCATION_API_TOKENS',
    description: 'Comma-separated pre-shared tokens GitLab may present (several, so they can be rotated). Required unless in sandbox mode, where one is generated.',
    schema: str,
    file: true,
    secret: true,
  },
  {
    name: 'ADMIN_API_TOKENS',
    description: 'Comma-separated credentials of the admin API and Bull Board (`/admin/`), each `name:token` or a bare token (named `admin`); the name is recorded as the actor `admin:<name>`. Tokens of at least 16 characters, distinct from `REVOCATION_API_TOKENS`. Unset: `/admin/` is disabled (`404`).',
    schema: str,
    file: true,
    secret: true,
  },
  {
    name: 'TOKEN_ENCRYPTION_KEY',
    description: 'Base64 of 32 random bytes: the AES-256-GCM key for tokens at rest (`openssl rand -base64 32`). To rotate, list several, comma-separated, newest first: the newest seals, all of them open; `trapi rekey` then re-seals queued and failed tokens so the old one can be removed. Required unless in sandbox mode, where one is generated.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=(,\\s*[A-Za-z0-9+/]{43}=)*$' },
    file: true,
    secret: true,
    expected: 'base64 of 32 bytes (openssl rand -base64 32), comma-separated for rotation, newest first',
  },
  {
    name: 'GITLAB_URL',
    description: 'Base URL of the host GitLab instance, e.g. `https://gitlab.example.com`. Unset (and no `GITLAB_INSTANCES_FILE`): sandbox mode against the built-in GitLab simulator, unless `NODE_ENV=production` (see `SANDBOX`).',
    schema: { type: 'string', pattern: '^https?://[^\\s/]+' },
    expected: 'an http:// or https:// URL of the instance, e.g. https://gitlab.example.com',
    url: ['http:', 'https:'],
  },
  {
    name: 'SANDBOX',
    description: '`true`: sandbox mode even with `NODE_ENV=production` (to try the image on purpose); `false`: never sandbox mode. Unset: sandbox mode when no GitLab instance is configured and `NODE_ENV` is not `production`. With `NODE_ENV=production` and no `GITLAB_URL` or `GITLAB_INSTANCES_FILE` the service refuses to start unless this is `true`; `true` beside a configured GitLab is an error.',
    schema: { type: 'boolean' },
  },
  {
    name: 'NODE_ENV',
    description: '`production` (the Docker image sets it) forbids sandbox mode unless `SANDBOX=true`, so that a forgotten `GITLAB_URL` stops the service instead of starting the simulator.',
    schema: str,
  },
  {
    name: 'GITLAB_ADMIN_TOKEN',
    description: 'Admin personal access token of `GITLAB_URL`, scope `api` (plus Admin Mode if enabled). Optional: without it only the strategies that need no admin credential run.',
    schema: { type: 'string', minLength: 20 },
    file: true,
    secret: true,
  },
  {
    name: 'GITLAB_ADMIN_TOKEN_ROTATION',
    description: 'Self-rotation of `GITLAB_ADMIN_TOKEN` before it expires: `off`, or the endpoint its kind of token uses, `personal`, `project:<id>` or `group:<id>` (scope `api` or `self_rotate`). See "Credentials" below.',
    schema: { type: 'string', pattern: ROTATION_SETTING },
    expected: ROTATION_EXPECTED,
    default: 'off',
  },
  { name: 'GITLAB_CA_FILE', description: 'PEM bundle of a private CA that signed `GITLAB_URL`\'s certificate.', schema: str },
  { name: 'GITLAB_TOKEN_PREFIX', description: 'Instance-wide token prefix of `GITLAB_URL` (e.g. `mycompany-`), if the admin set one.', schema: str },
  { name: 'GITLAB_GROUP_ID', description: 'Top-level group whose owner credential `GITLAB_GROUP_TOKEN` can revoke tokens with access to it (strategy `group`).', schema: int(1, 2 ** 31) },
  { name: 'GITLAB_GROUP_TOKEN', description: 'A token of an Owner of `GITLAB_GROUP_ID`, scope `api`.', schema: { type: 'string', minLength: 20 }, file: true, secret: true },
  { name: 'GITLAB_GROUP_TOKEN_ROTATION', description: 'Self-rotation of `GITLAB_GROUP_TOKEN`, as `GITLAB_ADMIN_TOKEN_ROTATION` (a group access token uses `group:<id>`).', schema: { type: 'string', pattern: ROTATION_SETTING }, expected: ROTATION_EXPECTED, default: 'off' },
  {
    name: 'GITLAB_INSTANCES_FILE',
    description: 'JSON or YAML file listing several GitLab instances (`schemas/instances.schema.json`); replaces the single-instance `GITLAB_*` variables.',
    schema: str,
  },
  { name: 'CREDENTIAL_ROTATE_BEFORE_DAYS', description: 'A self-rotated credential is rotated once it expires within this many days; any credential expiring this soon without rotation raises an alert.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 365 }, default: 7 },
  { name: 'CREDENTIAL_ROTATION_PERIOD_DAYS', description: 'Also rotate a self-rotated credential this many days after its last rotation (or adoption), whatever its expiry. Unset: by expiry only.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 3650 } },
  { name: 'CREDENTIAL_LIFETIME_DAYS', description: '`expires_at` asked for a rotated credential, in days from the rotation (GitLab caps it at its maximum lifetime, 365 by default).', schema: int(1, 400), default: 30 },
  { name: 'CREDENTIAL_CHECK_SECONDS', description: 'How often each GitLab credential\'s expiry is read (and, if due, the credential rotated); also done at every start.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 86400 }, default: 3600 },
  { name: 'GITLAB_RATE_LIMIT_PER_SECOND', description: 'Default outbound request rate per instance, shared by all worker processes.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 100000 }, default: 10 },
  { name: 'GITLAB_CONCURRENCY', description: 'Default outbound requests in flight per instance, shared by all worker processes.', schema: int(1, 10000), default: 8 },
  {
    name: 'STRATEGY_ORDER',
    description: 'Order in which strategies are tried (each kind uses those that apply to it): `admin`, `self`, `runner_reset`, `runner_delete`, `group`.',
    schema: { type: 'string', pattern: '^(admin|self|runner_reset|runner_delete|group)(,(admin|self|runner_reset|runner_delete|group))*$' },
    expected: 'a comma-separated list of admin, self, runner_reset, runner_delete, group',
    default: 'admin,self,runner_reset,group',
  },
  { name: 'RUNNER_DELETE_ENABLED', description: 'Allow `runner_delete` (deletes the runner of a leaked runner token) when the other strategies cannot act.', schema: { type: 'boolean' }, default: false },
  { name: 'UNAVAILABLE_RECHECK_MINUTES', description: 'How long an unavailable endpoint (feature flag off, older GitLab) is skipped before it is tried again.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 10080 }, default: 10 },
  { name: 'BREAKER_RECHECK_SECONDS', description: 'While GitLab refuses one of our credentials, how often it is re-checked (jobs needing it wait, never fail).', schema: { type: 'number', exclusiveMinimum: 0, maximum: 86400 }, default: 60 },
  { name: 'GITLAB_TIMEOUT_MS', description: 'Total timeout of one call to GitLab.', schema: int(100, 120000), default: 10000 },
  {
    name: 'GITLAB_VULNERABILITY_FEEDBACK',
    description: 'What the service writes back to the vulnerability a finding came from, once its token is settled, on the first configured GitLab instance (the one that calls us), with its admin credential: `note` (a note saying what happened to the token), `note,resolve` (also resolves the vulnerability, with the same text as comment, but only for a confirmed revocation), or `off`. Unset: `note` when that instance has an admin credential, else `off`. Through its own durable, retried queue (`feedback`): never in the way of a revocation.',
    schema: { type: 'string', enum: ['note', 'note,resolve', 'off'] },
    expected: 'note, note,resolve or off',
  },
  { name: 'RATE_LIMIT_PER_MINUTE', description: 'Inbound `POST` budget per client (credential and address), shared by all replicas.', schema: int(1, 10_000_000), default: 1200 },
  { name: 'RATE_LIMIT_GET_PER_MINUTE', description: 'Inbound `GET` budget per client address.', schema: int(1, 10_000_000), default: 6000 },
  { name: 'MAX_TOKENS_PER_REQUEST', description: 'Most items one `POST /v1/revoke_tokens` may carry.', schema: int(1, 100000), default: 10000 },
  { name: 'MAX_TOKEN_LENGTH', description: 'Longest accepted `token` string.', schema: int(16, 65536), default: 1024 },
  { name: 'MAX_LOCATION_LENGTH', description: 'Longest accepted `location` (or `url`) string.', schema: int(16, 65536), default: 4096 },
  { name: 'MAX_BODY_BYTES', description: 'Largest accepted request body.', schema: int(1024, 256 * 1024 * 1024), default: 16 * 1024 * 1024 },
  { name: 'MAX_JSON_DEPTH', description: 'Deepest accepted nesting of arrays and objects in a request body.', schema: int(2, 256), default: 32 },
  { name: 'TRUST_PROXY', description: 'Express `trust proxy` hops: how many reverse proxies sit in front of the API (for the client address).', schema: int(0, 16), default: 0 },
  { name: 'WORKER_CONCURRENCY', description: 'Jobs one worker process handles at once.', schema: int(1, 1000), default: 20 },
  { name: 'JOB_LOCK_SECONDS', description: 'How long a job stays locked to a worker without a heartbeat; a killed worker\'s jobs are picked up again after about this long.', schema: int(1, 600), default: 30 },
  { name: 'RETRY_HORIZON_HOURS', description: 'How long a token keeps being retried after transient failures before it lands in the failed set.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 24 * 30 }, default: 24 },
  { name: 'RETRY_BASE_DELAY_MS', description: 'First retry delay; doubles per attempt, with jitter.', schema: int(10, 3_600_000), default: 5000 },
  { name: 'RETRY_MAX_DELAY_MS', description: 'Longest delay between two attempts.', schema: int(100, 86_400_000), default: 15 * 60 * 1000 },
  { name: 'OUTCOME_RETENTION_DAYS', description: 'How long the outcome of a token is remembered after its job is gone (resends within it cause no new call).', schema: { type: 'number', exclusiveMinimum: 0, maximum: 3650 }, default: 30 },
  { name: 'RECORD_RETENTION_DAYS', description: 'How long each token\'s record (history, what GitLab identified, errors) and the audit trail are kept.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 3650 }, default: 90 },
  { name: 'SHUTDOWN_TIMEOUT_SECONDS', description: 'On `SIGTERM`, how long in-flight requests and jobs may take to finish; the process exits at most 5 s later, whatever Redis does.', schema: int(1, 600), default: 25 },
  { name: 'LOG_LEVEL', description: 'pino log level.', schema: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, default: 'info' },
  {
    name: 'METRICS_TOKEN',
    description: 'If set, `GET /metrics` (Prometheus, served by every role) requires `Authorization: Bearer <token>`. Unset: `/metrics` needs no credential (Prometheus convention; it carries no token or fingerprint), so keep it off the public network.',
    schema: { type: 'string', minLength: 16 },
    file: true,
    secret: true,
  },
  {
    name: 'NOTIFY_WEBHOOK_URL',
    description: 'Webhook (Slack-compatible incoming webhook) notified on the events of `NOTIFY_ON`, through a durable, retried queue; never sent the token. Unset: no notifications. Treated as a secret (never logged).',
    schema: { type: 'string', pattern: '^https?://[^\\s/]+' },
    file: true,
    secret: true,
    expected: 'an http:// or https:// URL',
    url: ['http:', 'https:'],
  },
  {
    name: 'NOTIFY_ON',
    description: 'Comma-separated events that notify `NOTIFY_WEBHOOK_URL`: `revoked` (also reset and deleted), `failed` (terminal failure), `needs_manual` (a report-only type on-call must revoke by hand), `submitted` (accepted by the vendor, unconfirmed), `already_gone`, `not_found`.',
    schema: { type: 'string', pattern: '^(revoked|failed|already_gone|not_found|needs_manual|submitted)(,(revoked|failed|already_gone|not_found|needs_manual|submitted))*$' },
    expected: 'a comma-separated list of revoked, failed, needs_manual, submitted, already_gone, not_found',
    default: 'revoked,failed,needs_manual,submitted',
  },
  { name: 'NOTIFY_TIMEOUT_MS', description: 'Total timeout of one webhook call; a failed call is retried with exponential backoff (10 attempts).', schema: int(100, 120000), default: 10000 },
  {
    name: 'PROVIDERS',
    description: 'Comma-separated providers that revoke tokens, in the order they are asked: `gitlab`, `github`, `slack`. `GET /v1/revocable_token_types` lists the union of their types.',
    schema: { type: 'string', pattern: '^[a-z_]+(\\s*,\\s*[a-z_]+)*$' },
    expected: 'a comma-separated list of gitlab, github, slack',
    default: 'gitlab,github,slack',
  },
  { name: 'GITHUB_API_URL', description: 'GitHub REST API base URL (provider `github`): `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server 3.19+.', schema: { type: 'string', pattern: '^https?://[^\\s/]+' }, url: ['http:', 'https:'], expected: 'an http:// or https:// URL', default: 'https://api.github.com' },
  {
    name: 'GITHUB_TOKEN',
    description: 'GitHub Enterprise Server only: a token sent with `POST /credentials/revoke` there. Must stay unset for `api.github.com`, where the call has to be unauthenticated (an authenticated one is refused with `403`).',
    schema: { type: 'string', minLength: 20 },
    file: true,
    secret: true,
  },
  { name: 'GITHUB_REVOKE_REQUESTS_PER_HOUR', description: 'Most `POST /credentials/revoke` calls (each up to 1,000 tokens) in any hour, shared by all replicas; GitHub allows 60. Tokens beyond it are held (never failed) until the budget frees.', schema: int(1, 100000), default: 60 },
  { name: 'GITHUB_BATCH_WAIT_MS', description: 'A batch of GitHub tokens is sent once no token joined it for this long (a burst is over), once it holds 1,000, and at the latest ten times this long after its first token joined.', schema: int(0, 600000), default: 1000 },
  { name: 'GITHUB_CONFIRM_AFTER_SECONDS', description: 'After GitHub accepted a batch (`202`, no per-token result), how long before each token is checked with itself (`GET /user` answers `401` once it is dead).', schema: { type: 'number', minimum: 0, maximum: 86400 }, default: 30 },
  { name: 'GITHUB_RESUBMIT_AFTER_MINUTES', description: 'A GitHub token still alive this long after its submission is submitted again (within the budget).', schema: { type: 'number', exclusiveMinimum: 0, maximum: 10080 }, default: 10 },
  { name: 'GITHUB_MAX_SUBMISSIONS', description: 'After this many submissions a GitHub token still alive fails (`still_active_after_revoke`) for on-call.', schema: int(1, 100), default: 3 },
  { name: 'GITHUB_RATE_LIMIT_PER_SECOND', description: 'Outbound per-token GitHub calls (confirmations, installation-token deletes) per second, shared by all worker processes.', schema: { type: 'number', exclusiveMinimum: 0, maximum: 100000 }, default: 10 },
  { name: 'GITHUB_CONCURRENCY', description: 'Outbound GitHub calls in flight, shared by all worker processes.', schema: int(1, 1000), default: 8 },
  { name: 'GITHUB_TIMEOUT_MS', description: 'Total timeout of one call to GitHub.', schema: int(100, 120000), default: 10000 },
  { name: 'SLACK_API_URL', description: 'Slack Web API base URL (provider `slack`): `auth.revoke` is called there with each leaked token itself.', schema: { type: 'string', pattern: '^https?://[^\\s/]+' }, url: ['http:', 'https:'], expected: 'an http:// or https:// URL', default: 'https://slack.com/api' },
  { name: 'SLACK_RATE_LIMIT_PER_SECOND', description: 'Outbound `auth.revoke` calls per second, shared by all worker processes (Slack also answers `429` with `Retry-After`, which is honoured).', schema: { type: 'number', exclusiveMinimum: 0, maximum: 10000 }, default: 5 },
  { name: 'SLACK_CONCURRENCY', description: 'Outbound Slack calls in flight, shared by all worker processes.', schema: int(1, 1000), default: 4 },
  { name: 'SLACK_TIMEOUT_MS', description: 'Total timeout of one call to Slack.', schema: int(100, 120000), default: 10000 },
  {
    name: 'REPORT_ONLY_TYPES',
    description: 'Comma-separated type strings no API can revoke (cloud keys, Stripe keys, Slack webhooks, ...) that on-call must hear of: listed by `GET /v1/revocable_token_types`, accepted, never sent anywhere; each becomes a `needs_manual` record (notified, shown by `trapi status` and `trapi failed list`, settled with `trapi resolve`). Unset: none.',
    schema: { type: 'string', pattern: '^[a-z0-9_().-]+(,\\s*[a-z0-9_().-]+)*$' },
    expected: 'comma-separated type strings as GitLab sends them (lower-case letters, digits, `_`, `(`, `)`, `.`, `-`), e.g. gitleaks_rule_id_aws',
  },
];

/** The README's configuration table, generated from VARIABLES (a test checks the README holds exactly this). */
export function configTable(): string {
  const rows = VARIABLES.map((v) => {
    const def = v.default === undefined ? '' : `\`${String(v.default)}\``;
    const file = v.file ? ` Also \`${v.name}_FILE\`.` : '';
    return `| \`${v.name}\` | ${def} | ${v.description}${file} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
