// Where our branch points: HEAD's commit and a branch's loose ref. Read by commits, merges and
// raw-content checks; waits on nothing but one git call (or a file read).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import { isSha } from './sha.js';

/** HEAD's commit, or null on an unborn branch. */
export async function headOf(runner: Runner): Promise<string | null> {
  const r = await runner.git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { okCodes: [1] });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** A branch's sha from its loose ref file (git commit always writes one); null if packed or absent. */
export function looseRef(gitDir: string, branch: string): string | null {
  try {
    const v = readFileSync(join(gitDir, 'refs', 'heads', ...branch.split('/')), 'utf8').trim();
    return isSha(v) ? v : null;
  } catch {
    return null;
  }
}
