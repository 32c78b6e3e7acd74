#!/usr/bin/env node
// Entry point: read configuration, start the service in its ROLE, and own the process signals.
import { loadConfig, type Config } from './config/index.js';
import { AppError, ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { packageVersion } from './paths.js';
import { nodeSupportWarning } from './runtime/node-version.js';
import { startService } from './service.js';

const HELP = `token-revocation-api: the Token Revocation API that a self-managed GitLab calls to revoke the tokens its secret
detection finds in public projects.

Usage:
  npm start                          start the service: the HTTP API and the workers, or one of them (ROLE), with
                                     the V8 heap flags the Docker image and the systemd unit use too (README.md, Memory):
                                     node --max-semi-space-size=2 --max-old-space-size=768 dist/src/main.js
  node dist/src/main.js --version    print the version
  node dist/src/main.js --help       print this help

The on-call command line, trapi, runs with the same configuration:
  node dist/src/cli.js <command>     from a checkout, after npm run build (or: npm run -s trapi -- <command>)
  trapi <command>                    in the Docker image
  (not through npx: outside the checkout npx fetches whatever the public registry publishes under that name)

Configuration: environment variables only, validated at start (exit code 2 naming each bad one); every variable
is in the Configuration table of README.md (npm run config-table prints it).
`;

/** --version and --help answer and exit; anything else is refused, since configuration comes from the environment. */
function handleArguments(args: readonly string[]): void {
  const [first] = args;
  if (first === undefined) return;
  if (args.length === 1 && (first === '--version' || first === '-v')) {
    process.stdout.write(`${packageVersion()}\n`);
    process.exit(0);
  }
  if (args.length === 1 && (first === '--help' || first === '-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  // Not echoed: whatever was typed there might be a secret that belongs in the environment.
  process.stderr.write(`main.js takes no arguments but --help or --version (got ${args.length} argument(s)); configuration comes from environment variables (README.md, Configuration). For on-call commands use trapi: node dist/src/cli.js --help\n`);
  process.exit(2);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Past SHUTDOWN_TIMEOUT_SECONDS, how long the forced closes may take before the process exits regardless. */
const SHUTDOWN_SLACK_MS = 5000;

async function main(): Promise<void> {
  handleArguments(process.argv.slice(2));
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const unsupported = nodeSupportWarning(process.versions.node);
  if (unsupported) logger.warn({ node: process.versions.node }, unsupported);
  const service = await startService(config, logger).catch((err: unknown) => {
    const message = err instanceof AppError ? err.message : (err as Error).message;
    logger.fatal({ code: err instanceof AppError ? err.code : undefined }, `could not start: ${message}`);
    process.exit(1);
  });
  if (service.newSandboxApiToken) {
    // Printed once, on the start that generated it, and never logged: it is a credential.
    process.stdout.write(
      `\nSandbox credential generated (kept in ${config.dataDir}/sandbox-secrets.json). Try:\n` +
        `  curl -i -X POST ${service.url}/v1/revoke_tokens -H 'Authorization: ${service.newSandboxApiToken}' -H 'Content-Type: application/json' \\\n` +
        `    -d '[{"type":"gitleaks_rule_id_gitlab_personal_access_token","token":"glpat-AAAAAAAAAAAAAAAAAAAA","location":"https://example.com/x"}]'\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new requests or jobs; finishing in-flight work');
    // Whatever Redis does (a dead one may never answer a close), the process is gone shortly after the grace period.
    const deadlineMs = config.shutdownTimeoutMs + SHUTDOWN_SLACK_MS;
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time; exiting without waiting for the rest');
      process.exit(1);
    }, deadlineMs);
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Rotation without a restart: re-read the configuration (files included); a bad one changes nothing.
  process.on('SIGHUP', () => {
    try {
      service.reloadSecrets(loadConfig());
    } catch (err) {
      logger.error({ problems: err instanceof ConfigError ? err.problems : [(err as Error).message] }, 'SIGHUP: the new configuration is invalid; keeping the current secrets');
    }
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${(err as Error).message}\n`);
  process.exit(1);
});
