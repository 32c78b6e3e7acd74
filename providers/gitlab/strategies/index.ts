// The explicit list of GitLab strategies; instances choose among them by name and order.
import type { StrategyName } from '../kinds.js';
import { admin } from './admin.js';
import { group } from './group.js';
import { runnerDelete, runnerReset } from './runner.js';
import { self } from './self.js';
import type { Strategy } from './step.js';

export const STRATEGY: Readonly<Record<StrategyName, Strategy>> = { admin, self, runner_reset: runnerReset, runner_delete: runnerDelete, group };
