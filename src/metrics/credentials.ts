// The credential gauges: expiry and last rotation read from the shared store at scrape time, the generation in use
// from this process (so that a replica still on an old credential stands out).
import { expiryTime } from '../domain/credentials.js';
import type { CredentialGenerations, CredentialReadings } from '../domain/ports.js';
import type { Metrics } from './index.js';

export function watchCredentials(metrics: Metrics, store: CredentialReadings, live: CredentialGenerations, names: readonly string[], rotated: readonly string[]): void {
  metrics.onScrape(async () => {
    for (const name of names) {
      const s = await store.read(name);
      const expires = expiryTime(s.expiresAt);
      if (expires !== undefined) metrics.credentialExpiry.set({ credential: name }, expires / 1000);
      else metrics.credentialExpiry.remove({ credential: name });
      const rotatedAt = Date.parse(s.rotatedAt ?? '');
      if (Number.isFinite(rotatedAt)) metrics.credentialLastRotation.set({ credential: name }, rotatedAt / 1000);
    }
    for (const name of rotated) metrics.credentialGeneration.set({ credential: name }, live.generation(name));
  });
}
