// Calls made as the leaked token itself (to confirm it is dead, or to delete an installation token), within the outbound limits.
import type { HttpClient } from '../http-client.js';
import type { OutboundLimiter } from '../contract.js';
import { call } from './client.js';
import { classify, type Classified } from './classify.js';

export class TokenCalls {
  constructor(
    private readonly client: HttpClient,
    private readonly limiter: OutboundLimiter,
    private readonly limits: { readonly perSecond: number; readonly concurrency: number },
  ) {}

  /** Whether the token still authenticates: 401 once it is dead (GitHub's "Bad credentials"). */
  user(token: string): Promise<Classified> {
    return this.#send('GET', 'user', token);
  }

  /** An installation token revoking itself: 204, or 401 when it is already dead. */
  deleteInstallationToken(token: string): Promise<Classified> {
    return this.#send('DELETE', 'installation/token', token);
  }

  /** An installation token cannot read /user (403) but can list its repositories; 401 once it is dead. */
  installationRepositories(token: string): Promise<Classified> {
    return this.#send('GET', 'installation/repositories?per_page=1', token);
  }

  #send(method: 'GET' | 'DELETE', path: string, token: string): Promise<Classified> {
    return this.limiter.run('github', this.limits, async () => classify(await call(this.client, method, path, token).catch((err: Error) => err), [token]));
  }
}
