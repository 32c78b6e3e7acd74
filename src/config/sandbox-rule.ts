// The one sandbox rule: when the built-in simulator may stand in for GitLab (the service and the CLI both follow it).
import type { Raw } from './environment.js';

/** What the sandbox rule decides; `refused_*` and `ambiguous` stop the process. */
export type SandboxDecision = 'gitlab' | 'sandbox' | 'refused_production' | 'refused_off' | 'ambiguous';

/**
 * The one sandbox rule (the service and the CLI both follow it): the built-in simulator runs only when no GitLab
 * instance is configured AND (SANDBOX=true, or NODE_ENV is not production). A production image with a forgotten
 * GITLAB_URL must stop, not "revoke" leaked tokens against a simulator.
 */
export function sandboxRule(gitlabConfigured: boolean, sandbox: boolean | undefined, nodeEnv: string | undefined): SandboxDecision {
  if (gitlabConfigured) return sandbox === true ? 'ambiguous' : 'gitlab';
  if (sandbox === true) return 'sandbox';
  if (sandbox === false) return 'refused_off';
  return nodeEnv === 'production' ? 'refused_production' : 'sandbox';
}

/** The rule over a raw environment, before validation (the CLI asks it before loadConfig; an invalid SANDBOX counts as unset). */
export function sandboxFromEnv(env: NodeJS.ProcessEnv): SandboxDecision {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const flag = (env['SANDBOX'] ?? '').trim();
  return sandboxRule(set('GITLAB_URL') || set('GITLAB_INSTANCES_FILE'), flag === 'true' ? true : flag === 'false' ? false : undefined, env['NODE_ENV']?.trim());
}

const NO_GITLAB = 'no GitLab instance is configured: set GITLAB_URL (one instance) or GITLAB_INSTANCES_FILE (several)';

export function decideSandbox(raw: Raw, problems: string[]): boolean {
  const configured = raw['GITLAB_URL'] !== undefined || raw['GITLAB_INSTANCES_FILE'] !== undefined;
  const flag = raw['SANDBOX'] === undefined ? undefined : raw['SANDBOX'] === true;
  const decision = sandboxRule(configured, flag, raw['NODE_ENV'] === undefined ? undefined : String(raw['NODE_ENV']));
  if (decision === 'refused_production') problems.push(`NODE_ENV is production and ${NO_GITLAB}. The built-in GitLab simulator (sandbox mode) runs in production only with SANDBOX=true`);
  if (decision === 'refused_off') problems.push(`SANDBOX is false and ${NO_GITLAB}`);
  if (decision === 'ambiguous') problems.push('SANDBOX=true and a GitLab instance (GITLAB_URL or GITLAB_INSTANCES_FILE) are both set; unset SANDBOX to revoke on that GitLab, or unset GITLAB_URL / GITLAB_INSTANCES_FILE to use the simulator');
  return decision === 'sandbox';
}
