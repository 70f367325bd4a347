// What /proc says of processes, for tests that check nothing of ours outlives its owner.
import { readFileSync, readdirSync } from 'node:fs';

/** Pids of the live (not zombie) processes in a process group (field 5 of /proc/<pid>/stat). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone while we looked
    }
  }
  return out;
}
