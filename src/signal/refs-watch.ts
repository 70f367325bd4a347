// Refs watch: the embedded default signal, and the fallback when XMPP is off or down. Waits on the
// kernel (inotify via fs.watch, no polling) for changes to:
//  - our own `.git/refs/heads/synced/*`, `git-annex` branches and `packed-refs`: a peer pushed into
//    this clone, so the merger merges;
//  - our own branch, `.git/refs/heads/<branch>` (and `packed-refs`): whoever moved it (the user's
//    own `git commit`, a reset, the agent itself), there may be commits to push (onBranchMoved);
//  - the HEAD and branch refs of every submodule .gitmodules declares: a commit inside a submodule
//    changes nothing in our work tree, yet it is a new gitlink to commit (onSubmoduleMoved);
//  - the refs of every remote that is a bare repository on a local path (a shared "cloud" directory,
//    a USB disk): a peer pushed there, so we fetch that remote and merge.
// It sends nothing: other clones learn of our pushes because the push lands in their refs.
// Produces, debounced per burst of ref writes: onLocalRefs() (merge what was pushed into us),
// onRemoteRefs(remote) (fetch that local bare remote, then merge), onBranchMoved() (ask the pusher)
// and onSubmoduleMoved(path) (a gitlink for the committer).
import { watch, type FSWatcher } from 'node:fs';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNetworkUrl } from '../git/remote-url.js';
import type { ServiceContext } from '../core/service.js';
import type { Logger } from '../core/log.js';
import type { RefsAnnouncement, SignalStatus, SignalTransport } from './types.js';
import { background } from '../core/background.js';

/** A recreated ref directory is usually followed at once by its ref files: rebuild once they settle. */
const REARM_DELAY_MS = 10;
/** Bursts of ref updates (a push writes several refs) collapse into one wake-up after this. */
const DEBOUNCE_MS = 5;

export interface RefsWatchOptions {
  gitDir: string;
  workTree: string;
  /** The branch we sync: a name with a slash lives in a subdirectory of refs/heads. */
  branch: string;
  remotes: () => Array<{ name: string; url: string }>;
  onLocalRefs: () => void;
  onRemoteRefs: (remote: string) => void;
  /** Our branch moved (loose ref or packed-refs). The pusher compares it with what remotes have,
   * so the agent's own commits cost one cheap ref read, never a loop. */
  onBranchMoved?: () => void;
  /** The submodules to watch (path in the work tree, git directory); read at start and again when
   * .gitmodules changed and the branch moved. */
  submodules?: () => Promise<Array<{ path: string; gitDir: string }>>;
  /** A submodule's HEAD or branch moved: its gitlink may have changed. */
  onSubmoduleMoved?: (path: string) => void;
  /** Where a failed rebuild of the submodules' watches is logged. */
  log: Logger;
}

export class RefsWatch implements SignalTransport {
  readonly name = 'refs-watch';
  readonly kind = 'refs-watch' as const;
  /** Closers of each watched repository's set of watches. */
  private groups: Array<() => void> = [];
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: RefsWatchOptions) {}

  async start(_ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    const { gitDir } = this.opts;
    // Peers' first push creates refs/heads/synced/; a directory that appears while the watch is being
    // set up can be missed, so it exists before we watch.
    mkdirSync(join(gitDir, 'refs', 'heads', 'synced'), { recursive: true });
    await this.watchRefs(gitDir, () => this.debounce('', this.opts.onLocalRefs), true);
    const onBranch = this.opts.onBranchMoved;
    if (onBranch)
      this.watchBranch(gitDir, () =>
        this.debounce('\0branch', () => {
          onBranch();
          // A commit may have added or removed a submodule (.gitmodules changed with it).
          background(this.watchSubmodules(), this.opts.log, 'watching the submodules');
        }),
      );
    await this.watchSubmodules();
    const watched: string[] = [];
    for (const r of this.opts.remotes()) {
      const dir = localBareRepo(r.url, this.opts.workTree);
      if (!dir) continue;
      await this.watchRefs(dir, () => this.debounce(r.name, () => this.opts.onRemoteRefs(r.name)), false);
      watched.push(r.name);
    }
    // Anything that changed between the merger's start-up pass and the watches being ready would
    // otherwise wait for the next change: look once more now that nothing can slip through.
    this.opts.onLocalRefs();
    for (const r of watched) this.opts.onRemoteRefs(r);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const close of this.groups.splice(0)) close();
    for (const w of this.subWatches.splice(0)) w.close();
    this.subsKey = '';
  }

  private stopped = false;
  /** Watches of the submodules' git directories, and what they were built from (.gitmodules' stat). */
  private subWatches: FSWatcher[] = [];
  private subsKey = '';

  /**
   * (Re)builds the watches of the submodules' refs when .gitmodules is not as it was at the last
   * build (its size and mtime: one stat per branch move, a git call only when it changed). Per
   * submodule: its git directory (HEAD, for a detached commit, and packed-refs) and the directory
   * of the branch its HEAD names.
   */
  private async watchSubmodules(): Promise<void> {
    const list = this.opts.submodules;
    const onMoved = this.opts.onSubmoduleMoved;
    if (!list || !onMoved || this.stopped) return;
    let key = 'none';
    try {
      const st = statSync(join(this.opts.workTree, '.gitmodules'));
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      // no .gitmodules: no submodules
    }
    if (key === this.subsKey) return;
    this.subsKey = key;
    let subs: Array<{ path: string; gitDir: string }> = [];
    try {
      subs = key === 'none' ? [] : await list();
    } catch {
      this.subsKey = ''; // try again on the next branch move
    }
    if (this.stopped) return;
    for (const w of this.subWatches.splice(0)) w.close();
    for (const s of subs) {
      const fire = () => this.debounce(`\0sub:${s.path}`, () => onMoved(s.path));
      this.add(this.subWatches, s.gitDir, (name) => (name === 'HEAD' || name === 'packed-refs') && fire());
      let ref = 'refs/heads';
      try {
        const head = readFileSync(join(s.gitDir, 'HEAD'), 'utf8').trim();
        if (head.startsWith('ref: refs/heads/')) ref = dirname(head.slice(5));
      } catch {
        // unreadable HEAD: refs/heads is the best guess
      }
      this.add(
        this.subWatches,
        join(s.gitDir, ...ref.split('/')),
        (name) => !name?.endsWith('.lock') && fire(),
      );
    }
  }

  announce(_a: RefsAnnouncement): void {
    // Nothing to send: the push itself is the signal.
  }

  status(): SignalStatus {
    return {
      transport: 'refs-watch',
      state: 'online',
      peers: [],
      rejected: 0,
      rejectedWhy: null,
      hint: null,
      error: null,
    };
  }

  /**
   * Watches a repository's ref directories with plain, non-recursive fs.watch (inotify): every ref
   * update is a rename of `<ref>.lock` onto `<ref>`, and two updates a few ms apart must both wake
   * us. (chokidar folds repeated changes of one file together, and Node's recursive watch on Linux
   * missed updates: both lost a peer's push.) The directories are exactly those that hold the refs we
   * care about: `synced/`, and the branch's own subdirectory when its name has a slash. `git gc`
   * deletes empty ref directories and a later push creates them anew, which silently ends a watch on
   * the old directory; each directory's parent is watched too, and when one is recreated the whole
   * set is rebuilt.
   */
  private async watchRefs(dir: string, fire: () => void, incomingOnly: boolean): Promise<void> {
    const sub = this.opts.branch.includes('/') ? dirname(this.opts.branch) : null;
    const heads = join(dir, 'refs', 'heads');
    const synced = join(heads, 'synced');
    // Our own branch and git-annex move because of us; in our repository only synced/* is written by
    // peers. In a bare remote every branch is written by peers.
    const targets = incomingOnly ? [synced] : [heads, synced];
    if (sub) targets.push(...targets.map((t) => join(t, sub)));
    const group: FSWatcher[] = [];
    let rearm: NodeJS.Timeout | null = null;
    const build = () => {
      for (const w of group.splice(0)) w.close();
      for (const t of targets) {
        this.add(group, t, (name) => (!name || !name.endsWith('.lock')) && fire());
        // The parent says when t is (re)created: then every watch of this repository is rebuilt.
        const base = basename(t);
        this.add(group, dirname(t), (name) => {
          if (name !== base || rearm) return;
          rearm = setTimeout(() => {
            rearm = null;
            build();
            fire(); // refs may have been written in the new directory before its watch existed
          }, REARM_DELAY_MS);
        });
      }
      // packed-refs is rewritten (by gc, or a push into a repository whose refs are packed).
      this.add(group, dir, (name) => name === 'packed-refs' && fire());
    };
    build();
    this.groups.push(() => {
      if (rearm) clearTimeout(rearm);
      for (const w of group.splice(0)) w.close();
    });
  }

  /**
   * Watches our own branch: a rename of `<branch>.lock` onto `<branch>` in its directory under
   * refs/heads, or a rewrite of packed-refs (a branch that was packed and is moved by `git
   * update-ref` may stay packed). refs/heads itself is never removed by git, so no rebuild is needed
   * for the plain case; a branch with a slash whose directory is recreated is caught by packed-refs
   * or the next event after the agent's own commit (which recreates it).
   */
  private watchBranch(gitDir: string, fire: () => void): void {
    const b = this.opts.branch;
    const dir = join(gitDir, 'refs', 'heads', ...(b.includes('/') ? [dirname(b)] : []));
    const base = basename(b);
    const group: FSWatcher[] = [];
    mkdirSync(dir, { recursive: true }); // a packed branch with a slash may have no directory yet
    this.add(group, dir, (name) => (name === null || name === base) && fire());
    this.add(group, gitDir, (name) => name === 'packed-refs' && fire());
    this.groups.push(() => {
      for (const w of group.splice(0)) w.close();
    });
  }

  private add(group: FSWatcher[], path: string, onName: (name: string | null) => void): void {
    try {
      const w = watch(path, { persistent: true }, (_ev, name) => onName(name === null ? null : String(name)));
      w.on('error', () => w.close());
      group.push(w);
    } catch {
      // The directory does not exist (yet): its parent's watch rebuilds the set when it appears.
    }
  }

  private debounce(key: string, fn: () => void): void {
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn();
      }, DEBOUNCE_MS),
    );
  }
}

/** The directory of a remote when it is a bare repository on a local path; null otherwise. */
export function localBareRepo(url: string, workTree: string): string | null {
  let p: string;
  if (url.startsWith('file://')) {
    try {
      p = fileURLToPath(url);
    } catch {
      return null;
    }
  } else if (isNetworkUrl(url)) {
    return null; // not ours to watch
  } else {
    p = isAbsolute(url) ? url : resolve(workTree, url);
  }
  try {
    if (!statSync(p).isDirectory()) return null;
  } catch {
    return null;
  }
  if (existsSync(join(p, 'HEAD')) && existsSync(join(p, 'refs')) && existsSync(join(p, 'objects'))) return p;
  return null;
}
