// Which annex keys did a commit range add? The committer hands these to TransferService.enqueueKeys.
// Read from git objects only (no work tree, no git-annex process): `git diff-tree` names the files
// that were added or changed, `git cat-file --batch-check` sizes their blobs, and `git cat-file
// --batch` reads the small ones. An annexed file is either a symlink into .git/annex/objects (locked)
// or a pointer file `/annex/objects/KEY` (unlocked); the key is its last path component.
import type { Runner } from '../git/runner.js';
import { isValidKey } from './keys.js';

/** Symlink targets and pointer files are a few hundred bytes; a larger blob is ordinary content. */
const MAX_POINTER_BYTES = 1024;
const SHA_RE = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Extracts the key from a symlink target or a pointer file's content, or null. Pure. */
export function keyFromPointer(content: string): string | null {
  const line = content.split('\n')[0]?.trim() ?? '';
  const m = /(?:^|\/)annex\/objects\/(?:[^/]+\/)*([^/]+)$/.exec(line);
  if (!m || m[1] === undefined) return null;
  return isValidKey(m[1]) ? m[1] : null;
}

/** Parses `git diff-tree -r -z --no-commit-id --diff-filter=ACMRT` into new-side blob shas. Pure. */
export function parseDiffTreeBlobs(z: string): string[] {
  const out: string[] = [];
  const parts = z.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const meta = parts[i] ?? '';
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(meta);
    if (!m) continue;
    const status = m[5];
    // R and C records carry two paths, others one.
    i += status === 'R' || status === 'C' ? 2 : 1;
    const mode = m[2];
    const sha = m[4] ?? '';
    if ((mode === '120000' || mode === '100644' || mode === '100755') && SHA_RE.test(sha)) out.push(sha);
  }
  return out;
}

/** Keys whose files were added or changed between `from` (exclusive) and `to`. */
export async function keysAddedInRange(runner: Runner, from: string | null, to: string): Promise<string[]> {
  const range = from ? [from, to] : ['--root', to];
  const d = await runner.git(['diff-tree', '-r', '-z', '--no-commit-id', '--diff-filter=ACMRT', ...range]);
  const shas = [...new Set(parseDiffTreeBlobs(d.stdout))];
  if (shas.length === 0) return [];
  const check = await runner.git(['cat-file', '--batch-check'], { input: shas.join('\n') + '\n' });
  const small: string[] = [];
  for (const line of check.stdout.split('\n')) {
    const [sha, type, size] = line.split(' ');
    if (type === 'blob' && sha && SHA_RE.test(sha) && Number(size) <= MAX_POINTER_BYTES) small.push(sha);
  }
  if (small.length === 0) return [];
  const cat = await runner.git(['cat-file', '--batch'], { input: small.join('\n') + '\n' });
  const keys = new Set<string>();
  // Output: "<sha> blob <size>\n<content>\n" per object. Sizes are in bytes, so walk a Buffer.
  const buf = Buffer.from(cat.stdout, 'utf8');
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isFinite(size)) break;
    const k = keyFromPointer(buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    if (k) keys.add(k);
    pos = nl + 1 + size + 1;
  }
  return [...keys];
}
