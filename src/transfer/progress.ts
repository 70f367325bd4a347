// The transfer part of `git autosync status`: a pure renderer from the status `transfers` object to
// text lines of at most `width` columns. No colours, no terminal codes: callers decide about those.
import type { TransferStatus } from './service.js';

/** Narrower than this, a bar carries no information; the line is text only. */
const MIN_BAR = 10;
/** Key names are long hashes; this much of the tail (the extension side) is enough to tell them apart. */
const KEY_SHOWN = 24;

export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

function shortKey(key: string): string {
  const name = key.includes('--') ? key.slice(key.indexOf('--') + 2) : key;
  return name.length <= KEY_SHOWN ? name : `…${name.slice(-(KEY_SHOWN - 1))}`;
}

function clip(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, Math.max(0, width - 1)) + '…';
}

export function renderProgress(t: TransferStatus, width: number): string[] {
  const w = Math.max(20, Math.floor(width));
  const lines: string[] = [];
  const head = `transfers: ${t.active.length} active, ${t.queued} queued, ${t.failed} failed`;
  lines.push(clip(head, w));
  for (const a of t.active) {
    const arrow = a.direction === 'upload' ? '↑' : '↓';
    const pct = a.size > 0 ? Math.min(100, Math.floor((a.bytes / a.size) * 100)) : null;
    const amount = a.size > 0 ? `${humanBytes(a.bytes)}/${humanBytes(a.size)}` : humanBytes(a.bytes);
    const label = `${arrow} ${a.remote} ${shortKey(a.key)}`;
    const tail = ` ${pct === null ? '  ?%' : `${String(pct).padStart(3)}%`} ${amount}`;
    const barWidth = w - label.length - tail.length - 3;
    if (barWidth >= MIN_BAR) {
      const filled = pct === null ? 0 : Math.round((barWidth * pct) / 100);
      lines.push(`${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`);
    } else {
      lines.push(clip(`${label}${tail}`, w));
    }
  }
  return lines;
}
