// git-annex helpers for the transfer tests: real git-annex in temp repos, no mocks.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { GIT_ENV, git, initRepo, tmpDir } from './repos.js';
import { Runner } from '../../src/git/runner.js';
import { TransferService, type TransferServiceOptions } from '../../src/transfer/service.js';

export function annex(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['annex', ...args], {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** A non-bare annex repo described as `desc`. */
export function initAnnex(path: string, desc: string): string {
  initRepo(path);
  execFileSync('git', ['annex', 'init', '-q', desc], { cwd: path, env: GIT_ENV });
  return path;
}

/** A bare annex repo (the "cloud"). */
export function initBareAnnex(path: string, desc: string): string {
  initRepo(path, { bare: true });
  execFileSync('git', ['annex', 'init', '-q', desc], { cwd: path, env: GIT_ENV });
  return path;
}

/** Git-level sync (branches and git-annex branch), no content. What the agent's git engine does. */
export function syncGit(repo: string): void {
  annex(repo, 'sync', '--no-content', '--quiet');
}

/** Writes `bytes` of incompressible data fast: one random MiB repeated, each block stamped with
 * its index and a per-file seed so every file has its own key. */
export function writeBig(path: string, bytes: number, seed = randomBytes(8).toString('hex')): void {
  mkdirSync(dirname(path), { recursive: true });
  const block = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  try {
    let done = 0;
    let i = 0;
    while (done < bytes) {
      const stamp = Buffer.from(`${seed}:${i++}:`);
      stamp.copy(block, 0);
      const n = Math.min(block.length, bytes - done);
      writeSync(fd, block, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Adds files to the annex and commits. Returns the keys of the given paths. */
export function addAndCommit(repo: string, paths: string[], msg = 'add'): string[] {
  annex(repo, 'add', '--quiet', ...paths);
  git(repo, 'commit', '-q', '-m', msg);
  return paths.map((p) => annex(repo, 'lookupkey', p).trim());
}

/** UUIDs (from the repo's own view) that hold `key`. */
export function whereis(repo: string, key: string): string[] {
  let out = '';
  try {
    out = execFileSync('git', ['annex', 'whereis', '--json', `--key=${key}`], {
      cwd: repo,
      env: GIT_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    // whereis exits 1 when there are no copies; its stdout still has the JSON line.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  return parseWhereisUuids(out);
}

function parseWhereisUuids(out: string): string[] {
  const l = out.split('\n').find((x) => x.startsWith('{'));
  if (!l) return [];
  const o = JSON.parse(l) as { whereis?: Array<{ uuid: string }> };
  return (o.whereis ?? []).map((w) => w.uuid);
}

/** Does the repository physically have the content of `key`? (Asks git-annex about itself.) */
export function hasKey(repo: string, key: string): boolean {
  try {
    const out = execFileSync('git', ['annex', 'findkeys', '--in=here', '--format=${key}\\n'], {
      cwd: repo,
      env: GIT_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n').includes(key);
  } catch {
    return false;
  }
}

export function uuidOf(repo: string): string {
  return git(repo, 'config', 'annex.uuid').trim();
}

export function quietLog() {
  return pino({ level: process.env.TRANSFER_TEST_LOG ?? 'silent' });
}

export interface ServiceHandle {
  svc: TransferService;
  locationsChanged: number;
  failures: unknown[];
  stop: () => Promise<void>;
}

/** A TransferService on `repo` with test-friendly defaults, started. */
export async function startService(
  repo: string,
  opts: Partial<TransferServiceOptions> = {},
): Promise<ServiceHandle> {
  const h: ServiceHandle = {
    svc: null as unknown as TransferService,
    locationsChanged: 0,
    failures: [],
    stop: async () => h.svc.stop(),
  };
  const userCb = opts.onLocationsChanged;
  h.svc = new TransferService({
    runner: new Runner(repo),
    repoDir: repo,
    autosyncDir: join(repo, '.git', 'autosync'),
    log: quietLog(),
    slots: 2,
    retryBaseMs: 200,
    ...opts,
    onLocationsChanged: () => {
      h.locationsChanged++;
      userCb?.();
    },
  });
  await h.svc.start({ fail: (e) => h.failures.push(e) });
  return h;
}

/**
 * A temp dir for one test whose teardown runs in reverse order of `defer` and removes the dir last.
 * (node:test runs `t.after` hooks first-registered first, so a dir registered at the start would be
 * removed while services started later still write into it.)
 */
export function scratch(t: { after: (fn: () => unknown) => void }, prefix = 'gas-xfer-') {
  const d = tmpDir(prefix);
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    for (const f of stack.reverse()) {
      try {
        await f();
      } catch {
        // Teardown goes on: the dir must still be removed.
      }
    }
    d.cleanup();
  });
  return { path: d.path, defer: (f: () => unknown) => void stack.push(f) };
}
