// A drive's mount to in sync: a real agent, a clone on an ext4 image loop-mounted in a private mount
// namespace. The measurement itself is bench/probes/drive-mount.ts, run here through
// `unshare --mount --propagation private` so its mounts never reach the machine's mount table.
// Where that is not possible (not root, no loop device, unshare refused, no findmnt) the suite
// prints that it was skipped and why, and the run goes on.
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/stats.js';
import { fmtMs, renderTable } from '../lib/table.js';
import type { SuiteResult } from './xmpp.js';

/** The probe: one agent, three mounts; 3 minutes is many times what it takes, even loaded. */
const PROBE_TIMEOUT_MS = 180_000;
const PROBE = fileURLToPath(new URL('../probes/drive-mount.js', import.meta.url));
const TITLE = 'a drive: mount to in sync (real agent, loop-mounted ext4, private mount namespace)';

/** Why this machine cannot run the probe, or null (the same checks as the drive integration test). */
function cannot(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a loop mount in a private mount namespace)';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'losetup', '-f'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    return `unshare --mount or a loop device is not permitted here: ${(probe.stderr ?? String(probe.error)).trim()}`;
  try {
    execFileSync('findmnt', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'findmnt (util-linux) is not installed';
  }
  return null;
}

interface Sample {
  gitMs: number | null;
  contentMs: number | null;
}

const cell = (v: number | null) => (v === null ? 'TIMEOUT' : fmtMs(v));

export function run(opts: { quick: boolean; log: (s: string) => void }): Promise<SuiteResult> {
  const why = cannot();
  if (why) {
    opts.log(`drive: skipped: ${why}`);
    return Promise.resolve({
      title: TITLE,
      table: `SKIPPED: ${why}\n`,
      records: [{ suite: 'drive', skipped: why }],
    });
  }
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, PROBE], {
    env: { ...process.env, GAS_IN_MOUNT_NS: '1' },
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
  });
  const line = /^RESULT (.*)$/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !line)
    throw new Error(`the drive probe failed (exit ${String(r.status)}): ${(r.stderr ?? '').slice(-800)}`);
  const res = JSON.parse(line[1]!) as { contentBytes: number; samples: Sample[] };
  const load1 = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const ok = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null);
  const gits = ok(res.samples.map((s) => s.gitMs));
  const contents = ok(res.samples.map((s) => s.contentMs));
  const rows = res.samples.map((s, i) => [String(i + 1), cell(s.gitMs), cell(s.contentMs)]);
  rows.push([
    'median',
    gits.length ? fmtMs(median(gits)) : 'TIMEOUT',
    contents.length ? fmtMs(median(contents)) : 'TIMEOUT',
  ]);
  opts.log(`drive: ${JSON.stringify(res.samples)} (load ${load1})`);
  const table =
    renderTable(
      [
        { header: 'mount' },
        { header: 'git: the new commit on the drive', align: 'right' },
        {
          header: `content: the new ${res.contentBytes / (1024 * 1024)} MiB key on the drive`,
          align: 'right',
        },
      ],
      rows,
    ) + `\nTimed from \`mount\` returning; the drive polled every 5 ms. Load (1 min) at the end: ${load1}.\n`;
  return Promise.resolve({
    title: TITLE,
    table,
    records: [{ suite: 'drive', ...res, load1 }],
  });
}
