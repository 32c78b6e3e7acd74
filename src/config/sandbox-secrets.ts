// Sandbox mode only: generates the inbound token and encryption key a newcomer did not set, and keeps them in DATA_DIR.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Stored {
  apiToken?: string | undefined;
  encryptionKey?: string | undefined;
}

export interface SandboxSecrets {
  apiToken: string;
  encryptionKey: string;
  /** Set only when this call generated the inbound token, so that it is shown exactly once. */
  newApiToken: string | undefined;
}

const generators = {
  apiToken: () => `trapi-sandbox-${randomBytes(24).toString('base64url')}`,
  encryptionKey: () => randomBytes(32).toString('base64'),
};

/** Configured values win; otherwise the stored ones; what is still missing is generated and stored (never a configured value). */
export function loadSandboxSecrets(dataDir: string, given: Stored): SandboxSecrets {
  const file = join(dataDir, 'sandbox-secrets.json');
  const stored = readStored(file);
  const generated = (['apiToken', 'encryptionKey'] as const).filter((name) => given[name] === undefined && stored[name] === undefined);
  for (const name of generated) stored[name] = generators[name]();
  if (generated.length > 0) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const apiToken = given.apiToken ?? stored.apiToken ?? '';
  return {
    apiToken,
    encryptionKey: given.encryptionKey ?? stored.encryptionKey ?? '',
    newApiToken: generated.includes('apiToken') ? apiToken : undefined,
  };
}

function readStored(file: string): Stored {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file} is not a sandbox secrets file; delete it to regenerate`);
  return parsed as Stored;
}
