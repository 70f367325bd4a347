// What `status` and `sync` print for a person: pure functions from the status JSON (or a sync's
// outcome) to text. Every reason work is waiting or failing that the JSON carries (the signal's
// error, HEAD off the branch, commit and merge errors, crashed services, stuck paths) gets one line
// here too, with what to do: nobody should need --json to learn why nothing syncs.
import type { StatusJson } from '../status/types.js';
import { renderProgress } from '../transfer/progress.js';
import type { TransferStatus } from '../transfer/service.js';

/**
 * Stuck paths listed one a line at most; a tree of thousands of refused names would bury every
 * other line. The rest are counted, and `status --json` has them all (as many as the agent keeps).
 */
const MAX_STUCK_LINES = 10;

function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A remote as the status JSON gives it; `ahead` (commits it lacks) may be absent in older agents. */
type RemoteJson = StatusJson['remotes'][number] & { ahead?: number | null };

function remoteLine(r: RemoteJson, running: boolean, now: number): string {
  let state: string;
  if (!running) state = r.paused ? 'paused; unknown (no agent running)' : 'unknown (no agent running)';
  // A plain `resume` lifts every pause, one remote's or all (see Agent.savePauseState).
  else if (r.paused) state = "paused ('git autosync resume' resumes it)";
  // Away, not failing: a drive that is not mounted is synced as soon as it is.
  else if (r.available === false) state = 'not available (its drive is not mounted); syncs when it is';
  else if (r.error) state = `ERROR: ${r.error} (retrying)`;
  else if (r.lastPushOk === false) state = 'failing (retrying)';
  else if (r.lastPushOk === null) state = 'no push yet';
  else state = 'ok';
  const parts = [state];
  if (running && r.lastPushAt) parts.push(`last push ${ago(r.lastPushAt, now)}`);
  if (typeof r.ahead === 'number' && r.ahead > 0)
    parts.push(`${plural(r.ahead, 'commit')} not pushed there yet`);
  return `remote      ${r.name.padEnd(12)} ${parts.join('; ')}`;
}

/** A hint for a signal error that does not already say what to do. */
function signalHint(error: string): string {
  if (/authentication failed|not-authorized/i.test(error))
    return '; check the account and its password (GIT_AUTOSYNC_XMPP_PASSWORD, autosync.xmpp.passwordFile or the OS keyring)';
  if (/;/.test(error)) return ''; // the message carries its own advice ("…; run: chmod 600 …")
  return '; the agent retries by itself; see .git/autosync/agent.log';
}

/**
 * The reasons work is waiting or failing, one line each, with what to do. Empty when all is well.
 * Pure: the status object in, lines out.
 */
export function reasons(st: StatusJson): string[] {
  const out: string[] = [];
  const branchNote = headNote(st);
  if (branchNote) out.push(branchNote);
  const err = st.signal.error;
  if (err) out.push(`problem     signal: ${err}${signalHint(err)}`);
  // Signals from a peer rejected (the repository keys differ, say): the transport's one line of advice.
  const hint = st.signal.hint;
  if (hint) out.push(`problem     signal: ${hint}`);
  for (const [what, e] of [
    ['commit', st.errors?.commit ?? null],
    ['merge', st.errors?.merge ?? null],
  ] as const) {
    if (!e) continue;
    // The HEAD line above already says this, with the command to run.
    if (branchNote && /^HEAD is on /.test(e)) continue;
    out.push(`problem     ${what}: ${e}${/;/.test(e) ? '' : '; the agent retries by itself'}`);
  }
  for (const s of st.services ?? []) {
    // A fatal failure is not retried: the hint says what the user has to do.
    if (s.state === 'failed') {
      out.push(
        `problem     service ${s.name} failed: ${s.lastError ?? 'no reason given'}; ` +
          `it is not restarted: ${s.hint ?? 'see .git/autosync/agent.log'}`,
      );
      continue;
    }
    if (s.state !== 'crashed' && !(s.restarts > 0 && s.lastError)) continue;
    out.push(
      `problem     service ${s.name} ${s.state === 'crashed' ? 'crashed' : 'restarted'} ` +
        `(${plural(s.restarts, 'restart')}): ${s.lastError ?? 'no reason given'}; ` +
        'it restarts by itself; see .git/autosync/agent.log',
    );
  }
  const stuck = st.stuck ?? [];
  if (stuck.length > 0) {
    out.push(
      `stuck       ${plural(stuck.length, 'path')} git refuses to commit; fix or remove them ` +
        '(they are committed once git accepts them):',
    );
    for (const p of stuck.slice(0, MAX_STUCK_LINES)) out.push(`  ${p.path}: ${p.error}`);
    if (stuck.length > MAX_STUCK_LINES)
      out.push(`  … and ${stuck.length - MAX_STUCK_LINES} more ('git autosync status --json' lists them)`);
  }
  // Large files that went into git itself: each message says why and points to git-annex.
  for (const w of st.warnings ?? []) out.push(`warning     ${w.message}`);
  return out;
}

/** HEAD off the branch the agent syncs (or detached with no agent): why, and how to get back. */
function headNote(st: StatusJson): string | null {
  // An older agent has no checkedOut field: nothing to compare, nothing to say.
  if (st.checkedOut === undefined || st.checkedOut === st.branch) return null;
  const where = st.checkedOut === null ? 'HEAD is detached' : `HEAD is on branch ${st.checkedOut}`;
  if (st.running)
    return `problem     ${where}, not ${st.branch}; syncing waits until you switch back: git switch ${st.branch}`;
  return `problem     ${where}; 'git autosync start' and 'sync' need a branch: finish the rebase, or git switch <branch>`;
}

export function renderStatus(st: StatusJson, columns: number, now = Date.now()): string {
  const lines: string[] = [];
  const branch = st.checkedOut === null && !st.running ? 'HEAD detached' : `branch ${st.branch}`;
  lines.push(`repository  ${st.repository} (${st.mode}, ${branch})`);
  lines.push(`agent       ${st.running ? `running, pid ${st.pid}` : 'not running'}`);
  lines.push(`head        ${st.head ? st.head.slice(0, 12) : '(no commits yet)'}`);
  lines.push(
    st.pendingCounted === 'staged'
      ? `pending     ${st.pendingChanges} change(s) staged; the work tree is not scanned without an agent in a tree this large (git status shows it)`
      : `pending     ${st.pendingChanges} change(s) not yet committed`,
  );
  if (st.scanning)
    lines.push('scanning    the first scan of the work tree is under way; changes sync meanwhile');
  lines.push(
    st.running
      ? `signal      ${st.signal.transport}, ${st.signal.state}, ${st.signal.peers.length} peer(s), ${st.signal.rejected} rejected`
      : `signal      ${st.signal.transport}, unknown (no agent running)`,
  );
  if (st.map) lines.push(mapLine(st.map));
  if (st.remotes.length === 0) lines.push('remotes     none (committing locally only)');
  for (const r of st.remotes) lines.push(remoteLine(r, st.running, now));
  if (st.mode === 'annex') lines.push(...renderProgress(st.transfers as TransferStatus, columns));
  lines.push(...reasons(st));
  return lines.join('\n');
}

/**
 * The line `sync` prints: what it committed, which remotes it synced with, and which it left alone
 * because they are paused. Remotes that failed are named on stderr, one line each, by the caller.
 */
export function syncSummary(
  committed: number | null,
  outcome: Record<string, string | null>,
  paused: string[] = [],
): string {
  const what =
    committed === null
      ? 'committed what was pending'
      : committed === 0
        ? 'nothing to commit'
        : `committed ${plural(committed, 'file')}`;
  const names = Object.keys(outcome);
  const ok = names.filter((r) => !outcome[r]);
  const where =
    names.length === 0 && paused.length === 0
      ? 'no remotes to sync with'
      : ok.length === 0
        ? 'no remote synced'
        : `synced with ${ok.join(', ')}`;
  const skipped = paused.length > 0 ? `; paused, not synced: ${paused.join(', ')}` : '';
  return `git-autosync: ${what}; ${where}${skipped}`;
}

/** The network map as a running agent knows it: the counts, and each peer's edge report. */
export function mapLine(m: NonNullable<StatusJson['map']>): string {
  const peers = m.peers.map(
    (p) =>
      `${p.node} (${p.edges} link${p.edges === 1 ? '' : 's'}, ${p.ageSeconds} s ago${p.stale ? ', stale' : ''})`,
  );
  const stale = m.stale > 0 ? `, ${m.stale} stale` : '';
  return `map         ${m.nodes} repositories, ${m.edges} links${stale}; peers told: ${peers.join(', ') || 'none yet'}`;
}
