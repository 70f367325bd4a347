// git-autosync, driven only through its fixed CLI (docs: /work/shared/docs/interface.md):
// `init --yes` once per clone, then `start --foreground` as a child we keep the pid of; SIGTERM stops
// it cleanly (pending changes are committed first). Two variants: plain git repositories, and annex
// repositories with annex.largefiles=nothing (same content-in-the-commit setup as the assistant).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentProcess, startPair } from '../lib/agent.js';
import { exec } from '../lib/exec.js';
import { clonesOf, pathOf, type Topology } from '../lib/topology.js';
import type { AgentPair, System } from './types.js';

/**
 * The compiled CLI, found from this file's place in dist/ (dist/bench/systems -> dist/src/cli).
 * BENCH_AUTOSYNC_CLI overrides it, e.g. to benchmark another checkout's build against this one.
 */
export const CLI =
  process.env.BENCH_AUTOSYNC_CLI ??
  resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** `init` may run `git annex init` and write config; a few seconds at most. */
const INIT_TIMEOUT_MS = 60_000;

export class AutosyncSystem implements System {
  readonly id: string;
  readonly label: string;
  readonly anchor = false;

  constructor(readonly annex: boolean) {
    this.id = annex ? 'autosync-annex' : 'autosync';
    this.label = annex ? 'git-autosync (annex)' : 'git-autosync (git)';
  }

  async available(): Promise<void> {
    if (!existsSync(CLI)) throw new Error(`git-autosync is not built: ${CLI} is missing (run npm run build)`);
  }

  async setup(topo: Topology): Promise<void> {
    for (const { path: clone } of clonesOf(topo)) {
      await exec(process.execPath, [CLI, '-C', clone, 'init', '--yes'], {
        cwd: clone,
        env: topo.env,
        timeoutMs: INIT_TIMEOUT_MS,
      });
    }
  }

  async start(topo: Topology): Promise<AgentPair> {
    const spawnOne = (name: 'A' | 'B' | 'C', clone: string) =>
      new AgentProcess(
        `git-autosync ${name}`,
        process.execPath,
        [CLI, '-C', clone, 'start', '--foreground'],
        {
          cwd: clone,
          env: topo.env,
          logPath: join(topo.root, `autosync-${name}.log`),
        },
      );
    return startPair((name) => spawnOne(name, pathOf(topo, name)), topo.c !== null);
  }
}
