// Staging exact paths into the index, in git mode through update-index and in annex mode through
// git-annex's clean filter, and taking back raw content git-annex let through. Waits on the commit
// that calls it (under the repository mutex); produces a staged index and the paths to try again.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner, RunOptions } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import { isVanishedPath } from './errors.js';
import { annexStageTimeoutMs, annexStaging } from './rawpaths.js';
import { headOf } from './head.js';

/** Literal pathspecs: a file named `*.txt` or `:(top)` means that file, never a pattern. */
export const LITERAL: RunOptions['env'] = { GIT_LITERAL_PATHSPECS: '1' };
/**
 * A staged blob bigger than this cannot be an annex pointer: a pointer is `/annex/objects/` and a
 * key, a few hundred bytes at most. Below it, a blob is not looked at (it costs one git-annex call
 * per blob to ask whether git-annex would annex it); a raw partial file smaller than this can reach
 * git, which the open-for-write check in the committer makes rare.
 */
const RAW_MIN_BYTES = 32 * 1024;
/** A path that came out raw is tried again after 1 s, doubling to 1 min while it keeps doing so. */
const RAW_RETRY_BASE_MS = 1_000;
const RAW_RETRY_MAX_MS = 60_000;
/** git annex matchexpression's exit status when the expression needs data it was not given. */
const MATCH_UNDECIDED = 42;
/** A stage whose paths keep vanishing under it is given up (and the commit retried) after this many
 * more runs: each run drops the paths that vanished, so more than a few means a storm of deletions. */
const VANISHED_RETRIES = 3;

/** When to try again a path that came out raw `strikes` times in a row (1, 2, …). Pure. */
export function rawRetryMs(strikes: number): number {
  return Math.min(RAW_RETRY_MAX_MS, RAW_RETRY_BASE_MS * 2 ** (strikes - 1));
}

export function existsLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function annexTimeout(paths: string[]): number {
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += lstatSync(p).size;
    } catch {
      // gone: nothing to hash
    }
  }
  return annexStageTimeoutMs(bytes);
}

export interface StagingDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
}

export class Staging {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  private readonly log: Logger;
  /** How many times in a row each path came out raw (the retry backs off). */
  private readonly rawStrikes = new Map<string, number>();

  constructor(d: StagingDeps) {
    this.info = d.info;
    this.runner = d.runner;
    this.log = d.log;
  }

  /**
   * Stages exact paths, one exact-path update for additions, edits and deletions alike (`git add
   * --pathspec-from-file` matches every pathspec against every file: 1,000 paths took 300 ms; this
   * is linear). Present paths are staged without --remove: update-index would remove a file that
   * vanishes while it works (git-annex filling it: in annex mode the clean filter makes a 200-file
   * update take seconds), and that is no deletion of anybody's. Such a run fails as a whole
   * (nothing is written); the paths that vanished are asked about again (deletions) and the stage
   * is run again. rawStaged: the paths unstaged because raw content came through (see unstageRaw).
   */
  async stage(
    present: string[],
    gone: string[],
    deletions: (missing: string[]) => string[],
    rawStaged: (paths: string[], retryMs: number) => void,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.info.mode === 'git') {
          if (present.length > 0) await this.updateIndex(present, false);
          if (gone.length > 0) await this.updateIndex(gone, true);
        } else await this.stageAnnex(present, gone, rawStaged);
        return;
      } catch (e) {
        if (!isVanishedPath(e) || attempt >= VANISHED_RETRIES) throw e;
        const vanished = present.filter((p) => !existsLink(join(this.info.workTree, p)));
        if (vanished.length > 0) {
          present = present.filter((p) => !vanished.includes(p));
          gone = [...gone, ...deletions(vanished)];
        }
      }
    }
  }

  /**
   * Stages exact paths through git's filters: added or updated, and a file that replaced a
   * directory (or the reverse) replaces it. remove: the paths are missing and leave the index
   * (git still adds one that is back by now). The paths were already checked against .gitignore.
   */
  private async updateIndex(
    paths: string[],
    remove: boolean,
    config: string[] = [],
    timeoutMs?: number,
  ): Promise<void> {
    await this.runner.git(
      [...config, 'update-index', '--add', ...(remove ? ['--remove'] : []), '--replace', '-z', '--stdin'],
      {
        input: paths.join('\0') + '\0',
        timeoutMs, // in annex mode each file goes through git-annex's clean filter (hashing)
      },
    );
  }

  /**
   * Annex mode. git stages the paths itself and runs git-annex's clean filter on each file (the
   * rules and `-c` options: rawpaths.ts annexStaging). Not `git annex add`: it stages files meant
   * for git with a child `git add`, whose clean filter is a third git-annex process that can wait
   * forever on a lock its grandparent holds (git-annex's keys database; a known class of git-annex
   * deadlocks, timing-dependent). Seen here as commits that stalled for minutes, in CI too.
   */
  private async stageAnnex(
    present: string[],
    gone: string[],
    rawStaged: (paths: string[], retryMs: number) => void,
  ): Promise<void> {
    const timeoutMs = annexTimeout(present.map((p) => join(this.info.workTree, p)));
    const groups = await annexStaging(
      this.runner,
      [...present, ...gone].map((p) => Buffer.from(p, 'utf8')),
    );
    const missing = new Set(gone);
    const forced = new Set<string>();
    for (const g of groups) {
      const names = g.names.map((n) => n.toString('utf8'));
      const here = names.filter((n) => !missing.has(n));
      const away = names.filter((n) => missing.has(n));
      if (here.length > 0) await this.updateIndex(here, false, g.config, timeoutMs);
      if (away.length > 0) await this.updateIndex(away, true, g.config, timeoutMs);
      if (g.config.includes('annex.largefiles=anything')) for (const n of here) forced.add(n);
    }
    await this.unstageRaw(present, forced, rawStaged);
  }

  /**
   * After annex staging: a staged blob too big to be an annex pointer, for a path git-annex should
   * have annexed, is raw content that git-annex's clean filter let through (seen when the file
   * changed while the filter read it: 114 MiB of a file still being written went into git). Such a
   * path is put back in the index as it is in HEAD, so it is not committed, and handed to rawStaged
   * to be tried again later. forced: the paths staged with annex.largefiles=anything (no rule of
   * their own). Paths whose rule says git (a 1 MiB text file under `*.txt annex.largefiles=nothing`)
   * are left alone: git-annex is asked, but only about blobs above RAW_MIN_BYTES.
   */
  private async unstageRaw(
    present: string[],
    forced: Set<string>,
    rawStaged: (paths: string[], retryMs: number) => void,
  ): Promise<void> {
    // cat-file reads one name a record; a name holding a newline would break its output lines.
    const asked = present.filter((p) => !p.includes('\n'));
    if (asked.length === 0) return;
    const r = await this.runner.git(['cat-file', '--batch-check', '-z'], {
      input: asked.map((p) => `:0:${p}`).join('\0') + '\0',
    });
    const lines = r.stdout.split('\n');
    const big: Array<{ path: string; size: number }> = [];
    for (const [i, path] of asked.entries()) {
      const m = /^[0-9a-f]+ blob (\d+)$/.exec(lines[i] ?? '');
      if (m && Number(m[1]) > RAW_MIN_BYTES) big.push({ path, size: Number(m[1]) });
      else this.rawStrikes.delete(path);
    }
    if (big.length === 0) return;
    const raw: string[] = [];
    for (const b of big) {
      if (await this.shouldAnnex(b.path, b.size, forced.has(b.path))) raw.push(b.path);
      else this.rawStrikes.delete(b.path);
    }
    if (raw.length === 0) return;
    const head = await headOf(this.runner);
    const inHead = new Map<string, string>();
    if (head) {
      const t = await this.runner.git(['ls-tree', '-z', '--full-tree', head, '--', ...raw], { env: LITERAL });
      for (const rec of t.stdout.split('\0')) {
        const tab = rec.indexOf('\t');
        if (tab > 0) inHead.set(rec.slice(tab + 1), rec);
      }
    }
    const zero = '0'.repeat(40);
    await this.runner.git(['update-index', '-z', '--index-info'], {
      input: raw.map((p) => inHead.get(p) ?? `0 ${zero}\t${p}`).join('\0') + '\0',
    });
    let strikes = 0;
    for (const p of raw) {
      const n = (this.rawStrikes.get(p) ?? 0) + 1;
      this.rawStrikes.set(p, n);
      strikes = Math.max(strikes, n);
    }
    const retryMs = rawRetryMs(strikes);
    this.log.warn(
      { paths: raw.slice(0, 5), count: raw.length, retryMs },
      'git-annex let raw content of an annexed file into the index (it changed while being added); not committing it, trying again',
    );
    rawStaged(raw, retryMs);
  }

  /** Whether git-annex's rules annex this path (annex.largefiles, annex.dotfiles). */
  private async shouldAnnex(path: string, size: number, forced: boolean): Promise<boolean> {
    // git-annex's clean filter keeps dotfiles (a name or a directory starting with '.') in git
    // unless annex.dotfiles is set, whatever annex.largefiles says.
    if (path.split('/').some((c) => c.startsWith('.'))) {
      const d = await this.runner.git(['config', '--type=bool', 'annex.dotfiles'], { okCodes: [1] });
      if (d.stdout.trim() !== 'true') return false;
    }
    if (forced) return true;
    let expr = (await this.runner.git(['config', 'annex.largefiles'], { okCodes: [1] })).stdout.trim();
    if (expr === '') {
      const a = await this.runner.git(['check-attr', '-z', 'annex.largefiles', '--', path], { env: LITERAL });
      const v = a.stdout.split('\0')[2] ?? 'unspecified';
      if (v === 'unspecified' || v === 'unset') return false;
      expr = v === 'set' ? 'anything' : v;
    }
    // Exit 42: the rule needs facts we do not pass (mimetype=, mimeencoding=). Then git-annex's
    // own clean filter decided, and what it staged stands: a commit must never fail over this check.
    const m = await this.runner.git(
      ['annex', 'matchexpression', '--largefiles', expr, `--file=${path}`, `--size=${size}`],
      { okCodes: [1, MATCH_UNDECIDED] },
    );
    return m.code === 0;
  }
}
