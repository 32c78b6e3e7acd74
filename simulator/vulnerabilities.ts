// The simulated GitLab's vulnerabilities, as far as the service writes to them: notes per vulnerability, resolutions.

export interface SimNote {
  readonly id: number;
  readonly vulnerabilityId: number;
  readonly body: string;
  /** Who wrote it: the user id of the credential. */
  readonly authorId: number;
  readonly at: number;
}

export interface SimResolution {
  readonly vulnerabilityId: number;
  readonly comment: string | undefined;
  readonly at: number;
}

/**
 * enabled: an Ultimate GitLab, every positive vulnerability id exists. absent: a GitLab without vulnerability
 * management in its GraphQL schema (CE, no licence, an older version): `vulnerabilityResolve` is an unknown field and
 * a Vulnerability is no noteable.
 */
export type VulnerabilityApiMode = 'enabled' | 'absent';
export const VULNERABILITY_API_MODES: readonly VulnerabilityApiMode[] = ['enabled', 'absent'];

export class VulnerabilityStore {
  mode: VulnerabilityApiMode = 'enabled';
  private notes: SimNote[] = [];
  private resolutions: SimResolution[] = [];
  private nextNoteId = 1;

  addNote(vulnerabilityId: number, body: string, authorId: number): SimNote {
    const note: SimNote = { id: this.nextNoteId++, vulnerabilityId, body, authorId, at: Date.now() };
    this.notes.push(note);
    return note;
  }

  resolve(vulnerabilityId: number, comment: string | undefined): void {
    this.resolutions.push({ vulnerabilityId, comment, at: Date.now() });
  }

  notesOf(vulnerabilityId: number): SimNote[] {
    return this.notes.filter((n) => n.vulnerabilityId === vulnerabilityId).map((n) => ({ ...n }));
  }

  allNotes(): SimNote[] {
    return this.notes.map((n) => ({ ...n }));
  }

  resolved(): SimResolution[] {
    return this.resolutions.map((r) => ({ ...r }));
  }

  clear(): void {
    this.notes = [];
    this.resolutions = [];
    this.nextNoteId = 1;
    this.mode = 'enabled';
  }
}
