// The anchor: `git annex assistant` (tested with Debian's git-annex 10.20230126).
//
// Setup, as found by experiment (see docs/benchmarks.md):
// - both clones are annex repositories (`git annex init`), each with the other as a remote;
// - annex.largefiles=nothing, so the assistant commits small files' content into git (as
//   git-autosync does) instead of annexing them and transferring content separately;
// - annex.autocommit and remote.<r>.annex-sync are on by default; we set them anyway so a different
//   default in another version cannot silently turn syncing off;
// - one `git annex sync` in each clone before the agents start, so each already knows the other's
//   annex UUID and git-annex branch (otherwise the first exchange is part of what we time);
// - the assistant then pushes to the peer's `synced/main` after each commit, and the peer's
//   assistant, which watches its refs, merges that into its work tree.
// We run `git-annex assistant --foreground` directly (not via the `git annex` wrapper, which would add
// a git process between us and the agent); SIGTERM stops it and its children.
import { join } from 'node:path';
import { AgentProcess, startPair } from '../lib/agent.js';
import { exec, git } from '../lib/exec.js';
import { clonesOf, pathOf, type Topology } from '../lib/topology.js';
import type { AgentPair, System } from './types.js';

const GIT_ANNEX = 'git-annex';

export class AssistantSystem implements System {
  readonly id = 'assistant';
  readonly label = 'git-annex assistant';
  readonly anchor = true;
  readonly annex = true;

  async available(): Promise<void> {
    try {
      await exec(GIT_ANNEX, ['version', '--raw'], { cwd: '/', env: process.env, timeoutMs: 10_000 });
    } catch (e) {
      throw new Error(`git-annex is not usable here: ${(e as Error).message}`);
    }
  }

  async setup(topo: Topology): Promise<void> {
    for (const { path: clone } of clonesOf(topo)) {
      await git(clone, topo.env, 'config', 'annex.autocommit', 'true');
      for (const peer of (await git(clone, topo.env, 'remote')).split('\n').filter(Boolean))
        await git(clone, topo.env, 'config', `remote.${peer}.annex-sync`, 'true');
    }
    // A first, then B, then A again (with C: A, B, C, B, A): after this each has its remotes'
    // git-annex branch and UUID.
    for (const clone of topo.c ? [topo.a, topo.b, topo.c, topo.b, topo.a] : [topo.a, topo.b, topo.a]) {
      // 5 min: in the scale scenario's 100,000-file repository a sync scans the whole work tree.
      await exec(GIT_ANNEX, ['sync', '--quiet'], { cwd: clone, env: topo.env, timeoutMs: 300_000 });
    }
  }

  async start(topo: Topology): Promise<AgentPair> {
    const spawnOne = (name: 'A' | 'B' | 'C', clone: string) =>
      new AgentProcess(`assistant ${name}`, GIT_ANNEX, ['assistant', '--foreground'], {
        cwd: clone,
        env: topo.env,
        logPath: join(topo.root, `assistant-${name}.log`),
      });
    return startPair((name) => spawnOne(name, pathOf(topo, name)), topo.c !== null);
  }
}
