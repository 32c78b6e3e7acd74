// GraphQL: the two mutations the service sends (createNote on a Vulnerability, vulnerabilityResolve), in GitLab's shapes.
import { type GitLabSimulator, startGitLabSimulator } from '../../simulator/index.js';
import { call } from './client.js';

const NOTE = 'mutation N($noteableId: NoteableID!, $body: String!) { createNote(input: { noteableId: $noteableId, body: $body }) { note { id } errors } }';
const RESOLVE = 'mutation R($id: VulnerabilityID!, $comment: String) { vulnerabilityResolve(input: { id: $id, comment: $comment }) { vulnerability { id state } errors } }';

describe('GitLab simulator: POST /api/graphql', () => {
  let sim: GitLabSimulator;
  beforeAll(async () => {
    sim = await startGitLabSimulator();
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  const graphql = (query: string, variables: Record<string, unknown>, token: string | undefined = sim.adminToken) =>
    call(sim, 'POST', '/api/graphql', { ...(token === undefined ? {} : { token, bearer: true }), json: { query, variables } });

  it('when a note is created on a vulnerability, then it answers with the note id and records it for that vulnerability', async () => {
    const res = await graphql(NOTE, { noteableId: 'gid://gitlab/Vulnerability/12', body: 'revoked' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { createNote: { note: { id: 'gid://gitlab/Note/1' }, errors: [] } } });
    expect(sim.notesOf(12).map((n) => n.body)).toEqual(['revoked']);
    expect(sim.notesOf(13)).toEqual([]);
  });

  it('when the note is empty, then the mutation answers its errors and no note', async () => {
    expect((await graphql(NOTE, { noteableId: 'gid://gitlab/Vulnerability/12', body: ' ' })).body).toEqual({ data: { createNote: { note: null, errors: ["Note can't be blank"] } } });
    expect(sim.allNotes()).toEqual([]);
  });

  it('when a vulnerability is resolved, then it answers its new state and records the comment', async () => {
    const res = await graphql(RESOLVE, { id: 'gid://gitlab/Vulnerability/12', comment: 'revoked' });
    expect(res.body).toEqual({ data: { vulnerabilityResolve: { vulnerability: { id: 'gid://gitlab/Vulnerability/12', state: 'RESOLVED' }, errors: [] } } });
    expect(sim.resolvedVulnerabilities()).toEqual([expect.objectContaining({ vulnerabilityId: 12, comment: 'revoked' })]);
  });

  it.each([
    ['no credential', undefined],
    ['an unknown credential', 'glpat-NotAnIssuedToken0000'],
  ])('when called with %s, then it answers 401', async (_what, token) => {
    const res = await call(sim, 'POST', '/api/graphql', { ...(token ? { token } : {}), json: { query: NOTE, variables: {} } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Invalid token' }] });
  });

  it('when a field is unknown or the id is not a vulnerability, then top-level errors answer', async () => {
    const unknown = await graphql('mutation { noSuchThing(input: {}) { errors } }', {});
    expect((unknown.body as { errors: Array<{ message: string }> }).errors[0]?.message).toBe("Field 'noSuchThing' doesn't exist on type 'Mutation'");
    const issue = await graphql(NOTE, { noteableId: 'gid://gitlab/Issue/1', body: 'x' });
    expect((issue.body as { errors: Array<{ message: string }> }).errors[0]?.message).toMatch(/does not represent an instance of Noteable/);
  });

  it('when vulnerability management is absent, then resolve is an unknown field and a vulnerability no resource', async () => {
    sim.setVulnerabilityApiMode('absent');
    expect(JSON.stringify((await graphql(RESOLVE, { id: 'gid://gitlab/Vulnerability/1' })).body)).toContain("Field 'vulnerabilityResolve' doesn't exist on type 'Mutation'");
    expect(JSON.stringify((await graphql(NOTE, { noteableId: 'gid://gitlab/Vulnerability/1', body: 'x' })).body)).toContain('does not exist or you don');
    expect(sim.allNotes()).toEqual([]);
  });

  it('when a fault matches the path, then it answers instead', async () => {
    sim.faults.failNext(1, 503, { path: '/api/graphql' });
    expect((await graphql(NOTE, { noteableId: 'gid://gitlab/Vulnerability/1', body: 'x' })).status).toBe(503);
    expect((await graphql(NOTE, { noteableId: 'gid://gitlab/Vulnerability/1', body: 'x' })).status).toBe(200);
    expect(sim.notesOf(1)).toHaveLength(1);
  });
});
