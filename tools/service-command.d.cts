import type { ChildProcess, SpawnOptions } from 'node:child_process';

export declare const NODE_FLAGS: Readonly<Record<string, readonly string[]>>;
export interface ServiceCommandOptions {
  /** Another script to run the same way (default `dist/apps/<name>/src/main.js`). */
  script?: string;
  /** Flags before the service's own (profiling...). */
  extraFlags?: string[];
  /** Arguments of the script itself. */
  args?: string[];
}
export declare function nodeArgs(name: string, options?: ServiceCommandOptions): string[];
export declare function spawnService(name: string, options?: ServiceCommandOptions & SpawnOptions): ChildProcess;
