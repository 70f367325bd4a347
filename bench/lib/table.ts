// Aligned markdown tables for the console, readable as-is and pasteable into docs/benchmarks.md.
// Pure functions, unit-tested in test/unit/bench.

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  /** Numbers read best right-aligned; names left-aligned (the default). */
  align?: Align;
}

/** Display width in code points, so "≤" or "×" count as one column like in a terminal. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** A cell must stay on one line and must not close the column early. */
function clean(cell: string): string {
  return cell.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/**
 * Renders rows under the columns. A row shorter than the header is padded with empty cells; a longer
 * one is an error in the caller, so it throws rather than silently dropping data.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  if (columns.length === 0) throw new Error('a table needs at least one column');
  const body = rows.map((r, i) => {
    if (r.length > columns.length)
      throw new Error(`row ${i} has ${r.length} cells for ${columns.length} columns`);
    return columns.map((_, c) => clean(r[c] ?? ''));
  });
  const headers = columns.map((c) => clean(c.header));
  // Three dashes is the least a markdown separator cell may have, plus one for the ':' of alignment.
  const widths = columns.map((c, i) =>
    Math.max(
      c.align === 'right' ? 4 : 3,
      width(headers[i] as string),
      ...body.map((r) => width(r[i] as string)),
    ),
  );
  const line = (cells: readonly string[]) =>
    '| ' +
    cells.map((cell, i) => pad(cell, widths[i] as number, columns[i]?.align ?? 'left')).join(' | ') +
    ' |';
  const sep =
    '|' +
    columns
      .map((c, i) => {
        const w = widths[i] as number;
        return c.align === 'right' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2);
      })
      .join('|') +
    '|';
  return [line(headers), sep, ...body.map(line)].join('\n');
}

// Number formats shared by the report. Each returns "-" for a missing value so tables stay aligned.

export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '-';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function fmtSeconds(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '-';
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtPercent(p: number | null | undefined, digits = 3): string {
  if (p == null || !Number.isFinite(p)) return '-';
  return `${p.toFixed(digits)} %`;
}

export function fmtRatio(r: number | null | undefined): string {
  if (r == null || !Number.isFinite(r)) return '-';
  return r >= 100 ? `${Math.round(r)}×` : `${r.toPrecision(2)}×`;
}

export function fmtMb(kb: number | null | undefined): string {
  if (kb == null || !Number.isFinite(kb)) return '-';
  return `${(kb / 1024).toFixed(1)} MB`;
}
