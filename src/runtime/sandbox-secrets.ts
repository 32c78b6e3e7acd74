// Sandbox start-up: the inbound token and encryption key a newcomer did not set, generated once and kept in DATA_DIR.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptionKeys, splitTokens, withSecrets, type Config } from '../config/index.js';

interface Stored {
  apiToken?: string | undefined;
  encryptionKey?: string | undefined;
}

const generators = {
  apiToken: () => `trapi-sandbox-${randomBytes(24).toString('base64url')}`,
  encryptionKey: () => randomBytes(32).toString('base64'),
};

/** Where the sandbox keeps what it generated. */
export const sandboxSecretsFile = (dataDir: string): string => join(dataDir, 'sandbox-secrets.json');

/**
 * The service's start in sandbox mode: configured values win; otherwise the stored ones; what is still missing is
 * generated and stored (never a configured value). `newSandboxApiToken` is set only when this call generated the
 * inbound token, so that it is shown exactly once. Outside sandbox mode the config is returned as it is.
 */
export function provisionSandboxSecrets(config: Config): Config {
  if (!config.sandbox) return config;
  const file = sandboxSecretsFile(config.dataDir);
  const stored = readStored(file);
  const generated = unset(config).filter((name) => stored[name] === undefined);
  for (const name of generated) stored[name] = generators[name]();
  if (generated.length > 0) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return fill(config, parsed(stored), generated.includes('apiToken') ? stored.apiToken : undefined);
}

/** The CLI in sandbox mode: what the configuration leaves unset comes from the file the service's first start wrote, if any; nothing is written. */
export function storedSandboxSecrets(config: Config): Config {
  return config.sandbox ? fill(config, parsed(readStored(sandboxSecretsFile(config.dataDir))), undefined) : config;
}

/**
 * A SIGHUP reload in sandbox mode: what the new configuration leaves unset keeps the value the service runs with.
 * Nothing is read or written: a reload must not generate a second credential or key (jobs sealed under the first
 * would no longer open), even if the file has gone meanwhile.
 */
export function reloadedSandboxSecrets(next: Config, running: Config['secrets']): Config {
  return next.sandbox ? fill(next, running, undefined) : next;
}

type Values = Partial<Pick<Config['secrets'], 'apiTokens' | 'encryptionKeys'>>;

const parsed = (stored: Stored): Values => ({
  ...(stored.apiToken === undefined ? {} : { apiTokens: Object.freeze(splitTokens(stored.apiToken)) }),
  ...(stored.encryptionKey === undefined ? {} : { encryptionKeys: encryptionKeys(stored.encryptionKey) }),
});

/** The sandbox secrets the configuration leaves unset (an empty list of tokens or keys). */
function unset(config: Config): ('apiToken' | 'encryptionKey')[] {
  return [...(config.secrets.apiTokens.length === 0 ? (['apiToken'] as const) : []), ...(config.secrets.encryptionKeys.length === 0 ? (['encryptionKey'] as const) : [])];
}

function fill(config: Config, values: Values, newApiToken: string | undefined): Config {
  const missing = unset(config);
  return withSecrets(
    config,
    {
      ...config.secrets,
      ...(missing.includes('apiToken') && values.apiTokens ? { apiTokens: values.apiTokens } : {}),
      ...(missing.includes('encryptionKey') && values.encryptionKeys ? { encryptionKeys: values.encryptionKeys } : {}),
    },
    newApiToken,
  );
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
