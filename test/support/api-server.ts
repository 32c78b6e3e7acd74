// The production HTTP app (createApp) behind listen() with limits a test chooses (e.g. timeouts of a second, so a
// slow sender is refused quickly), writing real intake jobs to the given Redis. No worker runs: whatever a request
// enqueued stays in Redis for the test to see.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { keyFromBase64 } from '../../src/domain/crypto.js';
import { createApp } from '../../src/http/app.js';
import { listen, type ServerLimits } from '../../src/http/server.js';
import { INTAKE_JOB_OPTIONS, INTAKE_QUEUE, KEY_PREFIX, QUEUE_STREAMS, type IntakeJobData } from '../../src/queue/jobs.js';
import { IntakeProducer } from '../../src/queue/producer.js';
import { captureLogs, type CapturedLogs } from './logs.js';
import { API_TOKEN } from './service.js';

export const SUPPORTED_TYPE = 'gitleaks_rule_id_gitlab_personal_access_token';

export interface ApiServer {
  readonly url: string;
  readonly logs: CapturedLogs;
  stop(): Promise<void>;
}

export async function startApiServer(redisUrl: string, limits: Partial<ServerLimits>): Promise<ApiServer> {
  const logs = captureLogs();
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const intake = new Queue<IntakeJobData>(INTAKE_QUEUE, { connection, prefix: KEY_PREFIX, streams: QUEUE_STREAMS, defaultJobOptions: INTAKE_JOB_OPTIONS });
  const key = keyFromBase64(randomBytes(32).toString('base64'));
  const app = createApp({
    logger: logs.logger,
    apiTokens: () => [API_TOKEN],
    tokenTypes: { types: () => [SUPPORTED_TYPE], supports: (t) => t === SUPPORTED_TYPE },
    enqueuer: new IntakeProducer(intake, () => key),
    readiness: () => Promise.resolve({ ready: true, checks: {} }),
    limits: { maxTokensPerRequest: 100, maxTokenLength: 1024, maxLocationLength: 4096, maxBodyBytes: 1024 * 1024, maxJsonDepth: 8 },
    rateLimit: { postPerMinute: 100_000, getPerMinute: 100_000 },
    trustProxy: 0,
  });
  const http = await listen(app, 0, '127.0.0.1', limits);
  return {
    url: http.url,
    logs,
    stop: async () => {
      await http.close(1000);
      await intake.close();
      connection.disconnect();
    },
  };
}
