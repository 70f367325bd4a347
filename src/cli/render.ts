// Human-readable status: a few aligned lines, and (annex mode) a progress bar per active transfer.
import type { StatusJson } from '../agent/Agent.js';
import { renderProgress } from '../transfer/progress.js';
import type { TransferStatus } from '../transfer/service.js';

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
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
  if (st.mode === 'annex') lines.push(...renderProgress(st.transfers as TransferStatus, columns));
  return lines.join('\n');
}
