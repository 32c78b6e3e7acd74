// GitLab's GraphQL endpoint, for the two mutations the service sends: createNote on a Vulnerability, and
// vulnerabilityResolve. Answers in GitLab's shapes: `{"data":{"createNote":{"note":{"id":"gid://gitlab/Note/1"},
// "errors":[]}}}`, mutation errors in the payload's `errors`, top-level `errors` for unknown fields and objects.
import { json, type Reply } from '../http.js';
import { authenticate } from './auth.js';
import type { Handler } from './context.js';

const INVALID_TOKEN: Reply = json(401, { errors: [{ message: 'Invalid token' }] });
const NOT_AVAILABLE = "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

const topLevel = (message: string, extensions: Record<string, unknown> = {}): Reply => json(200, { errors: [{ message, locations: [{ line: 2, column: 3 }], ...(Object.keys(extensions).length > 0 ? { extensions } : {}) }] });
const unknownField = (field: string): Reply => topLevel(`Field '${field}' doesn't exist on type 'Mutation'`, { code: 'undefinedField', typeName: 'Mutation', fieldName: field });

/** The first field selected by the operation (`mutation Name($a: T!) { field(...) { ... } }`). */
export function operationField(query: string): string | undefined {
  const body = query.slice(query.indexOf('{') + 1);
  return /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(body)?.[1];
}

function vulnerabilityId(gid: unknown): number | undefined {
  const m = typeof gid === 'string' ? /^gid:\/\/gitlab\/Vulnerability\/([1-9][0-9]*)$/.exec(gid) : null;
  return m ? Number(m[1]) : undefined;
}

export const graphql: Handler = (req, ctx) => {
  const auth = authenticate(req, ctx, { scopes: ['api'] });
  if (!auth.ok) return auth.reply.status === 401 ? INVALID_TOKEN : auth.reply;
  const query = req.params['query'];
  if (typeof query !== 'string' || query.trim() === '') return topLevel('No query string was present');
  const variables = (typeof req.params['variables'] === 'object' && req.params['variables'] !== null ? req.params['variables'] : {}) as Record<string, unknown>;
  const field = operationField(query);
  const vulns = ctx.vulnerabilities;
  if (field === 'createNote') {
    const noteable = variables['noteableId'];
    const id = vulnerabilityId(noteable);
    if (id === undefined) return topLevel(`${JSON.stringify(noteable)} does not represent an instance of Noteable`);
    if (vulns.mode === 'absent') return topLevel(NOT_AVAILABLE);
    const body = typeof variables['body'] === 'string' ? variables['body'] : '';
    if (body.trim() === '') return json(200, { data: { createNote: { note: null, errors: ["Note can't be blank"] } } });
    const note = vulns.addNote(id, body, auth.rec.userId);
    return json(200, { data: { createNote: { note: { id: `gid://gitlab/Note/${note.id}` }, errors: [] } } });
  }
  if (field === 'vulnerabilityResolve') {
    if (vulns.mode === 'absent') return unknownField(field);
    const id = vulnerabilityId(variables['id']);
    if (id === undefined) return topLevel(`${JSON.stringify(variables['id'])} is not a valid Global ID`);
    vulns.resolve(id, typeof variables['comment'] === 'string' ? variables['comment'] : undefined);
    return json(200, { data: { vulnerabilityResolve: { vulnerability: { id: `gid://gitlab/Vulnerability/${id}`, state: 'RESOLVED' }, errors: [] } } });
  }
  return unknownField(field ?? '');
};
