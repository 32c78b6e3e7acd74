// Runs the GitLab simulator on its own: `node dist/simulator/cli.js [--port 8929] [--latency 20] [--auto-create]`.
import { parseArgs } from 'node:util';
import { startGitLabSimulator, type GitLabSimulatorOptions } from './server.js';

const HELP = `Usage: gitlab-sim [options]   (each flag also reads an environment variable)
  --host <host>              SIM_HOST              default 127.0.0.1
  --port <n>                 SIM_PORT              default 0 (a free port)
  --latency <ms>             SIM_LATENCY_MS        delay before every GitLab answer, default 0
  --auto-create              SIM_AUTO_CREATE=1     unknown well-formed tokens exist and are active (sandbox)
  --instance-prefix <p>      SIM_INSTANCE_PREFIX   instance-wide token prefix, e.g. mycompany
  --admin-token <t>          SIM_ADMIN_TOKEN       admin PAT to accept (generated when absent)
  --call-log-limit <n>       SIM_CALL_LOG_LIMIT    calls kept in memory, default 100000
  -h, --help`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

/** Flags win over environment variables; invalid numbers fail fast with the offending name. */
export function optionsFrom(argv: string[], env: NodeJS.ProcessEnv): GitLabSimulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      latency: { type: 'string' },
      'auto-create': { type: 'boolean' },
      'instance-prefix': { type: 'string' },
      'admin-token': { type: 'string' },
      'call-log-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const opts: GitLabSimulatorOptions = { host: values.host ?? env['SIM_HOST'] ?? '127.0.0.1' };
  const port = int('--port/SIM_PORT', values.port ?? env['SIM_PORT']);
  const latency = int('--latency/SIM_LATENCY_MS', values.latency ?? env['SIM_LATENCY_MS']);
  const limit = int('--call-log-limit/SIM_CALL_LOG_LIMIT', values['call-log-limit'] ?? env['SIM_CALL_LOG_LIMIT']);
  const prefix = values['instance-prefix'] ?? env['SIM_INSTANCE_PREFIX'];
  const admin = values['admin-token'] ?? env['SIM_ADMIN_TOKEN'];
  if (port !== undefined) opts.port = port;
  if (latency !== undefined) opts.latencyMs = latency;
  if (limit !== undefined) opts.callLogLimit = limit;
  if (prefix) opts.instancePrefix = prefix;
  if (admin) opts.adminToken = admin;
  opts.autoCreate = values['auto-create'] ?? ['1', 'true', 'yes'].includes((env['SIM_AUTO_CREATE'] ?? '').toLowerCase());
  return opts;
}

async function main(): Promise<void> {
  const opts = optionsFrom(process.argv.slice(2), process.env);
  if (opts === 'help') {
    console.log(HELP);
    return;
  }
  const sim = await startGitLabSimulator(opts);
  console.log(`GitLab simulator listening on ${sim.url}`);
  console.log(`Admin token: ${sim.adminToken}`);
  console.log(`Control API: ${sim.url}/-/sim/info`);
  const shutdown = (signal: string): void => {
    console.log(`${signal}: stopping`);
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
