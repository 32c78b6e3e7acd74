// The rules that span variables: what sandbox mode may leave unset, provider settings, credential rotation.
import type { Raw } from './environment.js';
import type { InstanceConfig } from './instances.js';
import { PROVIDER_NAMES } from './providers.js';
import { splitTokens } from './secrets.js';

export function crossCheck(raw: Raw, sandbox: boolean, problems: string[]): void {
  if (sandbox) return; // sandbox mode generates what is missing
  for (const name of ['REVOCATION_API_TOKENS', 'TOKEN_ENCRYPTION_KEY']) {
    if (raw[name] === undefined) problems.push(`${name} is required outside sandbox mode (or set ${name}_FILE)`);
  }
  if (raw['REVOCATION_API_TOKENS'] !== undefined && splitTokens(String(raw['REVOCATION_API_TOKENS'])).some((t) => t.length < 16)) {
    problems.push('REVOCATION_API_TOKENS: every token must be at least 16 characters');
  }
  if (Number(raw['RETRY_BASE_DELAY_MS']) > Number(raw['RETRY_MAX_DELAY_MS'])) {
    problems.push('RETRY_BASE_DELAY_MS must not exceed RETRY_MAX_DELAY_MS');
  }
}

export function checkProviders(raw: Raw, problems: string[]): void {
  if (raw['GITHUB_TOKEN'] !== undefined && /^https?:\/\/api\.github\.com(\/|$)/i.test(String(raw['GITHUB_API_URL']))) {
    problems.push('GITHUB_TOKEN is set, but GITHUB_API_URL is api.github.com, where POST /credentials/revoke must be unauthenticated (GitHub refuses an authenticated one with 403): unset GITHUB_TOKEN, or point GITHUB_API_URL at your GitHub Enterprise Server (https://HOST/api/v3)');
  }
  const unknown = String(raw['PROVIDERS']).split(',').map((p) => p.trim()).filter((p) => !(PROVIDER_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) problems.push(`PROVIDERS: unknown provider(s) ${unknown.join(', ')}; choose among ${PROVIDER_NAMES.join(', ')}`);
}

/** A rotation needs a credential to rotate, and a successor that does not fall due the moment it exists. */
export function checkRotation(raw: Raw, instances: readonly InstanceConfig[], problems: string[]): void {
  for (const i of instances) {
    if (i.rotation.admin && i.adminToken === undefined) problems.push(`instance ${i.name}: admin token rotation is on, but no admin token is configured`);
    if (i.rotation.group && i.group === undefined) problems.push(`instance ${i.name}: group token rotation is on, but no group token is configured`);
  }
  if (Number(raw['CREDENTIAL_LIFETIME_DAYS']) <= Number(raw['CREDENTIAL_ROTATE_BEFORE_DAYS'])) {
    problems.push('CREDENTIAL_LIFETIME_DAYS must exceed CREDENTIAL_ROTATE_BEFORE_DAYS, or every rotated credential would be due again at once');
  }
}
