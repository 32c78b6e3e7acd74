// The shapes the trapi CLI modules share: the process streams, a parsed command line, a command's definition.
import type { Operations } from '../domain/ports.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  /** `isTTY`: a terminal, where long commands show their progress. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export type Values = Record<string, string | boolean | undefined>;
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface Context {
  readonly io: CliIo;
  readonly values: Values;
  readonly positionals: readonly string[];
  readonly json: boolean;
  /** Operations over the configured Redis, opened on first use. */
  ops(): Promise<Operations>;
  tokenTypes(): Promise<string[]>;
}

export interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly details: string;
  readonly options: OptionSpec;
  readonly positionals: readonly [min: number, max: number];
  run(ctx: Context): Promise<number>;
}
