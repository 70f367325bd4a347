// Submodules: which commit a commit of ours records for each (gitlinks), and where each keeps its
// git directory (for the refs watch). Waits on the caller (a commit under the repository mutex, the
// refs watch at start); produces gitlink entries and submodule git directories.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePathFrom } from 'node:path';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import { SHA_PATTERN } from './sha.js';
import { existsLink, LITERAL } from './stage.js';

/** A submodule's entry in `git ls-files -s -z`: mode 160000, the recorded commit, stage 0, path. */
const GITLINK_ENTRY_RE = new RegExp(`^160000 (${SHA_PATTERN}) 0\t(.*)$`, 's');

export interface SubmodulesDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
}

export class Submodules {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  private readonly log: Logger;
  /** Submodule states already logged as behind (see gitlinks), so each is said once. */
  private readonly behindLogged = new Set<string>();

  constructor(d: SubmodulesDeps) {
    this.info = d.info;
    this.runner = d.runner;
    this.log = d.log;
  }

  /**
   * The submodules among these present paths (directories whose index entry is a gitlink), each
   * with the commit to record: its checked-out HEAD when that is ahead of (or diverged from) the
   * recorded commit; null when it is behind, or the submodule lacks the recorded commit. That is
   * what a merge leaves behind when a peer recorded a newer submodule commit (a merge does not
   * check out submodules): recording the old HEAD would undo the peer's update, and the two clones
   * would undo each other forever. The submodule's own commits travel through its own remotes;
   * `git submodule update` checks out what the branch records.
   */
  async gitlinks(paths: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    // A checked-out submodule always has its `.git` (a file or a directory); any other directory
    // here (a file replaced by one) is left to update-index.
    const dirs = paths.filter((p) => {
      try {
        return (
          lstatSync(join(this.info.workTree, p)).isDirectory() &&
          existsLink(join(this.info.workTree, p, '.git'))
        );
      } catch {
        return false;
      }
    });
    if (dirs.length === 0) return out;
    const staged = await this.runner.git(['ls-files', '-s', '-z', '--', ...dirs], { env: LITERAL });
    for (const entry of staged.stdout.split('\0')) {
      const m = GITLINK_ENTRY_RE.exec(entry);
      if (!m || !dirs.includes(m[2]!)) continue;
      const [, recorded, p] = m as unknown as [string, string, string];
      const cwd = join(this.info.workTree, p);
      const h = await this.runner.git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], {
        cwd,
        okCodes: [1],
      });
      const now = h.stdout.trim();
      if (h.code !== 0 || now === recorded) {
        out.set(p, null);
        continue;
      }
      // 0: ahead (recorded is an ancestor); 1: not; 128: the submodule lacks the recorded commit.
      const ahead = await this.runner.git(['merge-base', '--is-ancestor', recorded, now], {
        cwd,
        okCodes: [1, 128],
      });
      const behind =
        ahead.code === 128 ||
        (ahead.code === 1 &&
          (await this.runner.git(['merge-base', '--is-ancestor', now, recorded], { cwd, okCodes: [1] }))
            .code === 0);
      if (behind) {
        const seen = `${p}\0${recorded}\0${now}`;
        if (!this.behindLogged.has(seen)) {
          this.behindLogged.add(seen);
          this.log.info(
            { submodule: p, recorded, checkedOut: now },
            'submodule is behind the commit the branch records (a peer moved it); not recording it: run git submodule update',
          );
        }
      }
      out.set(p, behind ? null : now);
    }
    return out;
  }

  /**
   * The submodules this work tree declares in .gitmodules, with the git directory each has (a
   * `.git` file pointing into .git/modules, or a `.git` directory), for the refs watch: a commit
   * inside a submodule changes nothing in our work tree. .gitmodules comes from peers, so a path
   * that is absolute or climbs out (`..`) is ignored.
   */
  async list(): Promise<Array<{ path: string; gitDir: string }>> {
    if (!existsSync(join(this.info.workTree, '.gitmodules'))) return [];
    const r = await this.runner.git(
      ['config', '-z', '-f', '.gitmodules', '--get-regexp', '^submodule\\..*\\.path$'],
      { okCodes: [1] },
    );
    const out: Array<{ path: string; gitDir: string }> = [];
    for (const entry of r.stdout.split('\0')) {
      const p = entry.slice(entry.indexOf('\n') + 1).replace(/\/+$/, '');
      if (
        !entry.includes('\n') ||
        p === '' ||
        p.startsWith('/') ||
        p.split('/').some((s) => s === '..' || s === '.git')
      )
        continue;
      const dotGit = join(this.info.workTree, p, '.git');
      try {
        const st = lstatSync(dotGit);
        if (st.isDirectory()) out.push({ path: p, gitDir: dotGit });
        else if (st.isFile()) {
          const m = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
          if (m) out.push({ path: p, gitDir: resolvePathFrom(dirname(dotGit), m[1]!.trim()) });
        }
      } catch {
        // not checked out here: nothing to watch
      }
    }
    return out;
  }
}
