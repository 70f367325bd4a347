// Refs watch: the embedded default signal, and the fallback when XMPP is off or down. Waits on the
// kernel (inotify via chokidar, no polling) for changes to:
//  - our own `.git/refs/heads/synced/*`, `git-annex` branches and `packed-refs`: a peer pushed into
//    this clone, so the merger merges;
//  - the refs of every remote that is a bare repository on a local path (a shared "cloud" directory,
//    a USB disk): a peer pushed there, so we fetch that remote and merge.
// It sends nothing: other clones learn of our pushes because the push lands in their refs.
import { watch, type FSWatcher } from 'chokidar';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service, ServiceContext } from '../agent/service.js';
import type { RefsAnnouncement, SignalStatus, SignalTransport } from './types.js';

/** Bursts of ref updates (a push writes several refs) collapse into one wake-up after this. */
const DEBOUNCE_MS = 5;

export interface RefsWatchOptions {
  gitDir: string;
  workTree: string;
  remotes: () => Array<{ name: string; url: string }>;
  onLocalRefs: () => void;
  onRemoteRefs: (remote: string) => void;
}

export class RefsWatch implements SignalTransport {
  readonly name = 'refs-watch';
  readonly kind = 'refs-watch' as const;
  private watchers: FSWatcher[] = [];
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: RefsWatchOptions) {}

  async start(_ctx: ServiceContext): Promise<void> {
    const { gitDir } = this.opts;
    // Peers' first push creates refs/heads/synced/; a directory that appears while the watch is being
    // set up can be missed, so it exists before we watch.
    mkdirSync(join(gitDir, 'refs', 'heads', 'synced'), { recursive: true });
    await this.watchRefs(gitDir, () => this.debounce('', this.opts.onLocalRefs), true);
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
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
  }

  announce(_a: RefsAnnouncement): void {
    // Nothing to send: the push itself is the signal.
  }

  status(): SignalStatus {
    return { transport: 'refs-watch', state: 'online', peers: [], rejected: 0, error: null };
  }

  private async watchRefs(dir: string, fire: () => void, incomingOnly: boolean): Promise<void> {
    const heads = join(dir, 'refs', 'heads');
    const w = watch([heads, join(dir, 'packed-refs')], {
      ignoreInitial: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      atomic: false,
      // The ref files are written under a .lock name and renamed; the rename is the event we want.
      ignored: (p: string) => p.endsWith('.lock'),
    });
    const onEvent = (p: string) => {
      if (basename(p) === 'packed-refs') return fire();
      const rel = p.slice(heads.length + 1);
      // In our own repository only synced/* is written by peers; our branch and git-annex moving is us
      // (a watch on those would wake the merger for our own commits, and annex commands write git-annex).
      if (!incomingOnly || rel.startsWith('synced/')) fire();
    };
    w.on('add', onEvent).on('change', onEvent);
    await new Promise<void>((r) => w.once('ready', () => r()));
    this.watchers.push(w);
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
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || /^[^/]+:/.test(url)) {
    return null; // ssh, https, scp-like host:path: not ours to watch
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
