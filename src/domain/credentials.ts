// Which self-rotate endpoint one of our credentials uses: its own kind of access token decides.

export type RotationTarget = { readonly endpoint: 'personal' } | { readonly endpoint: 'project' | 'group'; readonly id: number };

/** The setting's syntax, shared by the environment variables and the instances file. */
export const ROTATION_SETTING = '^(off|personal|project:[1-9][0-9]{0,9}|group:[1-9][0-9]{0,9})$';

/** `off` → undefined; `personal`, `project:<id>`, `group:<id>` → the target (the value was validated against ROTATION_SETTING). */
export function parseRotationTarget(setting: string | undefined): RotationTarget | undefined {
  if (setting === undefined || setting === 'off') return undefined;
  if (setting === 'personal') return { endpoint: 'personal' };
  const [endpoint, id] = setting.split(':');
  return { endpoint: endpoint === 'project' ? 'project' : 'group', id: Number(id) };
}

export const describeRotation = (t: RotationTarget | undefined): string => (t === undefined ? 'off' : t.endpoint === 'personal' ? 'personal' : `${t.endpoint}:${t.id}`);

/** When a credential stops working, in epoch ms: GitLab's `expires_at` is a date, the token expires as that day begins (UTC). */
export function expiryTime(expiresAt: string | null | undefined): number | undefined {
  if (!expiresAt) return undefined;
  const at = Date.parse(expiresAt.length === 10 ? `${expiresAt}T00:00:00Z` : expiresAt);
  return Number.isFinite(at) ? at : undefined;
}
