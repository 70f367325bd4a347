// Topologies of real clones for integration tests: direct peers, a chain, a shared bare "cloud".
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { GIT_ENV, git, initRepo, write, tmpDir } from './repos.js';
import { AgentProc, cli } from './agents.js';

export interface Topology {
  root: string;
  clones: string[];
  cloud: string | null;
  agents: AgentProc[];
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
}

function seeded(path: string, annex: boolean): string {
  initRepo(path, { annex });
  write(path, 'README.txt', 'seed\n');
  git(path, 'add', '.');
  git(path, 'commit', '-q', '-m', 'seed');
  return path;
}

function cloneOf(src: string, dst: string, annex: boolean): string {
  git(join(dst, '..'), 'clone', '-q', src, dst);
  git(dst, 'config', 'user.name', 'Test');
  git(dst, 'config', 'user.email', 'test@example.invalid');
  if (annex) execFileSync('git', ['annex', 'init', '-q', 'test'], { cwd: dst, env: GIT_ENV });
  return dst;
}

function initAll(clones: string[]): void {
  for (const c of clones) {
    const r = cli(['-C', c, 'init', '--yes']);
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  }
}

function make(root: string, clones: string[], cloud: string | null, env: NodeJS.ProcessEnv = {}): Topology {
  initAll(clones);
  const agents = clones.map((c) => new AgentProc(c, env));
  return {
    root,
    clones,
    cloud,
    agents,
    startAll: async () => {
      await Promise.all(agents.map((a) => a.start()));
    },
    stopAll: async () => {
      await Promise.all(agents.map((a) => a.stop().catch(() => a.kill9())));
    },
  };
}

/** names[0] is seeded; every other clone is a clone of it, and every pair are remotes of each other. */
export function direct(root: string, names: string[], opts: { annex?: boolean } = {}): Topology {
  const paths = names.map((n) => join(root, n));
  seeded(paths[0]!, !!opts.annex);
  for (const p of paths.slice(1)) cloneOf(paths[0]!, p, !!opts.annex);
  for (const p of paths) {
    for (let j = 0; j < names.length; j++) {
      if (paths[j] === p) continue;
      const has = git(p, 'remote').split('\n').includes('origin') && p !== paths[0] && j === 0;
      if (has) git(p, 'remote', 'rename', 'origin', names[j]!);
      else git(p, 'remote', 'add', names[j]!, paths[j]!);
    }
  }
  return make(root, paths, null);
}

/** A – B – C: each clone knows only its neighbours. */
export function chain(root: string, names: string[]): Topology {
  const paths = names.map((n) => join(root, n));
  seeded(paths[0]!, false);
  for (let i = 1; i < paths.length; i++) {
    cloneOf(paths[i - 1]!, paths[i]!, false);
    git(paths[i]!, 'remote', 'rename', 'origin', names[i - 1]!);
    git(paths[i - 1]!, 'remote', 'add', names[i]!, paths[i]!);
  }
  return make(root, paths, null);
}

/** A shared bare "cloud" and clones of it, which know only the cloud. */
export function cloud(root: string, names: string[], opts: { annex?: boolean } = {}): Topology {
  const cloudPath = join(root, 'cloud.git');
  const seed = seeded(join(root, 'seed'), !!opts.annex);
  initRepo(cloudPath, { bare: true });
  git(seed, 'push', '-q', cloudPath, 'main');
  if (opts.annex) git(seed, 'push', '-q', cloudPath, 'git-annex');
  const paths = names.map((n) => cloneOf(cloudPath, join(root, n), !!opts.annex));
  return make(root, paths, cloudPath);
}

/** Builds a topology in a fresh temp dir and tears it down (agents stopped, dir removed) after the test. */
export function using(t: TestContext, build: (root: string) => Topology): Topology {
  const tmp = tmpDir();
  const topo = build(tmp.path);
  t.after(async () => {
    await topo.stopAll();
    tmp.cleanup();
  });
  return topo;
}
