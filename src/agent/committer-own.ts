// The committer's own writes: files the agent wrote itself (git-annex filled an unlocked file with
// its downloaded content), so their next events are not an edit. Without this, every downloaded
// file was staged again, and staging runs git-annex's clean filter over the content: 5 s of CPU on
// the receiving side of a 1,000-file burst, competing with the downloads. The file's size and mtime
// are kept: while both still match, the file is what git-annex wrote; any later write changes them
// and is committed as usual. git-annex refreshes the index entry itself when its lane closes.
//
// The record is its own object, built before the committer and the transfers and handed to both
// (app/Agent.ts): the transfers report each fill (filled), the committer asks it. So neither is
// built waiting for the other.
//
// Waits on fills reported by the transfers (annex mode); produces "still ours" answers for the
// committer's note, and the fills its next pass has not looked at yet (takeFilled).
import { join } from 'node:path';
import { statOf, type Stat } from './committer-raw.js';

/** Own writes remembered at once; the oldest are forgotten first, which only means such a file is
 * staged once more (a no-op commit), never that an edit is missed. */
const MAX_OWN_WRITES = 20_000;

export class OwnWrites {
  private readonly writes = new Map<string, Stat>();
  /** Fills reported since the committer's last pass (bounded like writes: see takeFilled). */
  private readonly unseen = new Set<string>();

  /** workTree: where the reported paths are (the committer's work tree). */
  constructor(private readonly workTree: string) {}

  /**
   * git-annex just filled this work-tree file. size: the content's size (the key's), when known.
   * A file of another size is not what git-annex wrote but a write that came after it, before its
   * lane answered (demo --annex wrote notes.txt the moment its content appeared): taken for
   * git-annex's, that edit was never committed.
   */
  filled(rel: string, size: number | null = null): void {
    const st = statOf(join(this.workTree, rel));
    if (st.size === null || (size !== null && st.size !== size)) return;
    this.remember(rel, st);
    if (this.unseen.size >= MAX_OWN_WRITES) {
      const oldest = this.unseen.values().next().value;
      if (oldest !== undefined) this.unseen.delete(oldest);
    }
    this.unseen.add(rel);
  }

  /**
   * The fills reported since the last call, with the stat they were filled with; one a later write
   * changed is left out (stillOurs forgot it). The committer's pass takes those it has pending out of
   * its pending set. One forgotten (the bound) is only staged once more, a no-op commit.
   */
  takeFilled(): Array<[string, Stat]> {
    const out: Array<[string, Stat]> = [];
    for (const rel of this.unseen) {
      const st = this.writes.get(rel);
      if (st) out.push([rel, st]);
    }
    this.unseen.clear();
    return out;
  }

  private remember(rel: string, st: Stat): void {
    if (this.writes.size >= MAX_OWN_WRITES) {
      const oldest = this.writes.keys().next().value;
      if (oldest !== undefined) this.writes.delete(oldest);
    }
    this.writes.set(rel, st);
  }

  /** Whether the file is still as the agent left it; one that changed since is forgotten. */
  stillOurs(rel: string, st: Stat): boolean {
    const own = this.writes.get(rel);
    if (!own) return false;
    if (own.size === st.size && own.mtimeMs === st.mtimeMs) return true;
    this.writes.delete(rel);
    return false;
  }
}

/**
 * Files as the committer just committed them (size, mtime and ctime: any later write moves ctime).
 * Under load the watcher's events lag the writes by seconds, and a burst's pass, which scans its new
 * folders itself, has committed most files before their events come: an event for a file still
 * exactly as committed is no edit (5,000 files in new folders: a second pass of 1,460 such paths
 * cost 0.8 s of git on 2 busy cores). Only files the commit took are remembered (see Committer).
 */
export class CommittedAs {
  private readonly files = new Map<string, Stat>();

  remember(rel: string, st: Stat): void {
    if (this.files.size >= MAX_OWN_WRITES) {
      const oldest = this.files.keys().next().value;
      if (oldest !== undefined) this.files.delete(oldest);
    }
    this.files.delete(rel);
    this.files.set(rel, st);
  }

  forget(rel: string): void {
    this.files.delete(rel);
  }

  /** Whether the file is still exactly as committed; one that changed since is forgotten. */
  unchanged(rel: string, st: Stat): boolean {
    const c = this.files.get(rel);
    if (!c) return false;
    if (c.ctimeMs !== null && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs)
      return true;
    this.files.delete(rel);
    return false;
  }
}
