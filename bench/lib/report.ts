// The printed report: one table per result kind, the errors, and the comparison with the anchor.
import { fmtMb, fmtMs, fmtPercent, fmtRatio, fmtSeconds, renderTable } from './table.js';
import { median } from './stats.js';
import type { Check, RunRecord, TargetRow } from './targets.js';

/** Long error messages stay in the JSON; a table cell shows the start of them. */
const MAX_CELL_ERROR = 100;

function errorCell(r: RunRecord): string {
  const msg = (r.error ?? 'failed').replace(/\s+/g, ' ');
  const head = r.skipped ? 'SKIPPED' : r.timeout ? 'TIMEOUT' : 'ERROR';
  return `${head}: ${msg.length > MAX_CELL_ERROR ? msg.slice(0, MAX_CELL_ERROR - 1) + '…' : msg}`;
}

export function propagationTable(records: readonly RunRecord[]): string | null {
  const rows = records
    .filter((r) => LATENCY_SCENARIOS.has(r.scenario))
    .map((r) => {
      const res = r.result;
      if (!r.ok || res?.kind !== 'latency')
        return [r.systemLabel, r.scenarioTitle, '', '', '', '', '', '', '', errorCell(r)];
      const s = res.summary;
      const poll = res.pollSamplesMs?.length ? median(res.pollSamplesMs) : null;
      return [
        r.systemLabel,
        r.scenarioTitle,
        String(s?.n ?? 0),
        fmtMs(s?.median),
        res.observer === 'inotify' ? fmtMs(poll) : '(poll)',
        fmtMs(s?.p90),
        fmtMs(s?.min),
        fmtMs(s?.max),
        String(res.timeouts),
        '',
      ];
    });
  if (rows.length === 0) return null;
  return renderTable(
    [
      { header: 'system' },
      { header: 'scenario' },
      { header: 'n', align: 'right' },
      { header: 'median', align: 'right' },
      { header: 'median, 3 ms poll', align: 'right' },
      { header: 'p90', align: 'right' },
      { header: 'min', align: 'right' },
      { header: 'max', align: 'right' },
      { header: 'timeouts', align: 'right' },
      { header: 'note' },
    ],
    rows,
  );
}

/** Scenarios with a latency result, in the order of the table. */
const LATENCY_SCENARIOS = new Set(['isolated', 'edit', 'relay', 'cloud', 'continuous']);
const BURST_SCENARIOS = new Set(['burst', 'burst-newdir', 'archive']);

export function burstTable(records: readonly RunRecord[]): string | null {
  const rows = records
    .filter((r) => BURST_SCENARIOS.has(r.scenario))
    .map((r) => {
      const res = r.result;
      if (!r.ok || res?.kind !== 'burst')
        return [r.systemLabel, r.scenarioTitle, '', '', '', '', '', '', '', errorCell(r)];
      const runs = res.runs ?? [];
      return [
        r.systemLabel,
        r.scenarioTitle,
        String(res.files),
        String(res.folders ?? 0),
        String(runs.length || 1),
        fmtMs(res.writeMs),
        fmtSeconds(res.arrivalMs),
        runs.length > 1 ? runs.map((x) => (x.arrivalMs / 1000).toFixed(2)).join(' / ') : '',
        runs.length > 1 ? runs.map((x) => x.commits).join(' / ') : String(res.commits),
        '',
      ];
    });
  if (rows.length === 0) return null;
  return renderTable(
    [
      { header: 'system' },
      { header: 'shape' },
      { header: 'files', align: 'right' },
      { header: 'new folders', align: 'right' },
      { header: 'bursts', align: 'right' },
      { header: 'writing', align: 'right' },
      { header: 'all on peer (median)', align: 'right' },
      { header: 'each burst, s', align: 'right' },
      { header: 'commits', align: 'right' },
      { header: 'note' },
    ],
    rows,
  );
}

export function idleTable(records: readonly RunRecord[]): string | null {
  const rows = records
    .filter((r) => r.scenario === 'idle')
    .map((r) => {
      const res = r.result;
      if (!r.ok || res?.kind !== 'idle') return [r.systemLabel, '', '', '', '', '', '', '', '', errorCell(r)];
      return [
        r.systemLabel,
        fmtSeconds(res.windowMs),
        fmtPercent(res.cpuPercent),
        `${res.cpuPercentA.toFixed(3)} / ${res.cpuPercentB.toFixed(3)}`,
        res.wakeupsPerSecond == null ? '-' : res.wakeupsPerSecond.toFixed(1),
        fmtMb(res.memory.rssKb),
        fmtMb(res.memory.pssKb),
        `${res.memoryA.processes} / ${res.memoryB.processes}`,
        `${fmtMb(res.memoryA.rssKb)} / ${fmtMb(res.memoryB.rssKb)}`,
        '',
      ];
    });
  if (rows.length === 0) return null;
  return renderTable(
    [
      { header: 'system' },
      { header: 'window', align: 'right' },
      { header: 'CPU/agent', align: 'right' },
      { header: 'CPU % A / B', align: 'right' },
      { header: 'wake-ups/s', align: 'right' },
      { header: 'RSS/agent', align: 'right' },
      { header: 'PSS/agent', align: 'right' },
      { header: 'procs A / B', align: 'right' },
      { header: 'RSS A / B', align: 'right' },
      { header: 'note' },
    ],
    rows,
  );
}

function fmtValue(c: Check, v: number | null): string {
  switch (c.unit) {
    case 'ms':
      return fmtMs(v);
    case 'percent':
      return fmtPercent(v);
    case 'kB':
      return fmtMb(v);
    case 'count':
      return v == null ? '-' : String(v);
  }
}

/** Rows for metrics neither system measured (scenario not selected, or both failed) are left out. */
export function comparisonTable(
  checks: readonly Check[],
  candidateLabel: string,
  anchorLabel: string,
): string | null {
  const known = checks.filter((c) => c.candidate !== null || c.anchor !== null);
  if (known.length === 0) return null;
  return renderTable(
    [
      { header: 'metric' },
      { header: candidateLabel, align: 'right' },
      { header: anchorLabel, align: 'right' },
      { header: 'ratio', align: 'right' },
      { header: 'target' },
      { header: 'met' },
    ],
    known.map((c) => [
      c.metric,
      fmtValue(c, c.candidate),
      fmtValue(c, c.anchor),
      fmtRatio(c.ratio),
      c.target,
      c.met === null ? (c.target ? 'unknown' : '') : c.met ? 'yes' : 'NO',
    ]),
  );
}

export function errorsList(records: readonly RunRecord[]): string | null {
  const bad = records.filter((r) => !r.ok);
  if (bad.length === 0) return null;
  return bad
    .map((r) => `- ${r.systemLabel} / ${r.scenario}: ${r.skipped ? '(skipped) ' : ''}${r.error}`)
    .join('\n');
}

export function scaleTable(records: readonly RunRecord[]): string | null {
  const rows = records
    .filter((r) => r.scenario === 'scale')
    .map((r) => {
      const res = r.result;
      if (!r.ok || res?.kind !== 'scale') return [r.systemLabel, '', '', '', '', '', '', '', errorCell(r)];
      return [
        r.systemLabel,
        `${res.files} / ${res.folders}`,
        res.readyMs == null ? `timeout (${fmtSeconds(res.readyTimeoutMs)})` : fmtSeconds(res.readyMs),
        fmtMs(res.latency?.median) + (res.latencyTimeouts ? ` (+${res.latencyTimeouts} timeouts)` : ''),
        `${res.cpuPercentA.toFixed(3)} / ${res.cpuPercentB.toFixed(3)} (${fmtSeconds(res.windowMs)})`,
        `${fmtMb(res.memoryA.rssKb)} / ${fmtMb(res.memoryB.rssKb)}`,
        `${res.inotifyWatchesA} / ${res.inotifyWatchesB}`,
        String(res.startCommits),
        '',
      ];
    });
  if (rows.length === 0) return null;
  return renderTable(
    [
      { header: 'system' },
      { header: 'files / folders', align: 'right' },
      { header: 'start to ready', align: 'right' },
      { header: 'one change, median', align: 'right' },
      { header: 'idle CPU % A / B', align: 'right' },
      { header: 'RSS A / B (trees)', align: 'right' },
      { header: 'inotify watches A / B', align: 'right' },
      { header: 'commits at start', align: 'right' },
      { header: 'note' },
    ],
    rows,
  );
}

/** The table of issue 10's targets, as docs/benchmarks.md carries it. */
export function targetsTable(
  rows: readonly TargetRow[],
  candidateLabel: string,
  anchorLabel: string,
): string | null {
  if (rows.length === 0) return null;
  return renderTable(
    [
      { header: 'shape' },
      { header: 'target' },
      { header: `${candidateLabel}`, align: 'right' },
      { header: `${anchorLabel}`, align: 'right' },
      { header: 'ratio', align: 'right' },
      { header: 'met' },
    ],
    rows.map((r) => [
      r.shape,
      r.target,
      r.measured,
      r.anchor,
      fmtRatio(r.ratio),
      r.met === null ? 'unknown' : r.met ? 'yes' : 'NO',
    ]),
  );
}
