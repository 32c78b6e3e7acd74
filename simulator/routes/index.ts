// The GitLab route table: method + pattern → handler. Anything not listed is Grape's 404.
import { identify, revoke } from './admin-token.js';
import type { Handler, Route } from './context.js';
import { graphql } from './graphql.js';
import { revokeGroupToken } from './groups.js';
import { deleteRunner, resetRunnerToken, verifyRunner } from './runners.js';
import { deleteSelf, getSelf, rotateGroupTokenSelf, rotateProjectTokenSelf, rotateSelf } from './self-service.js';

export const ROUTES: readonly Route[] = [
  { method: 'POST', pattern: '/api/v4/admin/token', handler: identify },
  { method: 'DELETE', pattern: '/api/v4/admin/token', handler: revoke },
  { method: 'GET', pattern: '/api/v4/personal_access_tokens/self', handler: getSelf },
  { method: 'DELETE', pattern: '/api/v4/personal_access_tokens/self', handler: deleteSelf },
  { method: 'POST', pattern: '/api/v4/personal_access_tokens/self/rotate', handler: rotateSelf },
  { method: 'POST', pattern: '/api/v4/projects/:id/access_tokens/self/rotate', handler: rotateProjectTokenSelf },
  { method: 'POST', pattern: '/api/v4/groups/:id/access_tokens/self/rotate', handler: rotateGroupTokenSelf },
  { method: 'POST', pattern: '/api/v4/runners/reset_authentication_token', handler: resetRunnerToken },
  { method: 'DELETE', pattern: '/api/v4/runners', handler: deleteRunner },
  { method: 'POST', pattern: '/api/v4/runners/verify', handler: verifyRunner },
  { method: 'POST', pattern: '/api/v4/groups/:id/tokens/revoke', handler: revokeGroupToken },
  { method: 'POST', pattern: '/api/graphql', handler: graphql },
];

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

const COMPILED: Compiled[] = ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.pattern.replace(/:([a-z_]+)/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, regex: new RegExp(`^${source}/?$`), names };
});

export interface Match {
  pattern: string;
  handler: Handler;
  pathParams: Record<string, string>;
}

/** HEAD is not served: the service never sends it. Path params are URL-decoded (`groups/my%2Fgroup`). */
export function matchRoute(method: string, path: string): Match | undefined {
  for (const { route, regex, names } of COMPILED) {
    if (route.method !== method) continue;
    const m = regex.exec(path);
    if (!m) continue;
    const pathParams: Record<string, string> = {};
    names.forEach((name, i) => (pathParams[name] = safeDecode(m[i + 1] ?? '')));
    return { pattern: route.pattern, handler: route.handler, pathParams };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
