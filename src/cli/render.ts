// Human-readable status: a few aligned lines, and a progress bar per active transfer.
import type { StatusJson } from '../agent/Agent.js';

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function bar(done: number, total: number, width: number): string {
  const w = Math.max(5, width);
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(frac * w);
  return `[${'#'.repeat(full)}${'.'.repeat(w - full)}] ${Math.floor(frac * 100)}%`;
}

export function renderStatus(st: StatusJson, columns: number): string {
  const lines: string[] = [];
  lines.push(`repository  ${st.repository} (${st.mode}, branch ${st.branch})`);
  lines.push(`agent       ${st.running ? `running, pid ${st.pid}` : 'not running'}`);
  lines.push(`head        ${st.head ? st.head.slice(0, 12) : '(no commits yet)'}`);
  lines.push(`pending     ${st.pendingChanges} change(s) not yet committed`);
  lines.push(
    `signal      ${st.signal.transport}, ${st.signal.state}, ${st.signal.peers.length} peer(s), ${st.signal.rejected} rejected`,
  );
  if (st.remotes.length === 0) lines.push('remotes     none (committing locally only)');
  for (const r of st.remotes) {
    const state = r.paused
      ? 'paused'
      : r.error
        ? `ERROR: ${r.error}`
        : r.lastPushOk === false
          ? 'failing'
          : 'ok';
    lines.push(`remote      ${r.name.padEnd(12)} ${state}; last push ${ago(r.lastPushAt)}`);
  }
  const t = st.transfers;
  lines.push(`transfers   ${t.active.length} active, ${t.queued} queued, ${t.failed} failed`);
  for (const a of t.active as Array<{
    direction: string;
    key: string;
    remote: string;
    bytes: number;
    size: number;
  }>) {
    const label = `${a.direction === 'upload' ? '↑' : '↓'} ${a.remote} ${a.key.slice(-24)}`;
    lines.push(`  ${label.padEnd(36)} ${bar(a.bytes, a.size, Math.min(40, columns - 50))}`);
  }
  return lines.join('\n');
}
