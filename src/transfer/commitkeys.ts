// Which annex keys did a commit range add? The committer hands these to TransferService.enqueueKeys.
// Read from git objects only (no work tree, no git-annex process): `git diff-tree` names the files
// that were added or changed, `git cat-file --batch-check` sizes their blobs, and `git cat-file
// --batch` reads the small ones. An annexed file is either a symlink into .git/annex/objects (locked)
// or a pointer file `/annex/objects/KEY` (unlocked); the key is its last path component.
import type { Runner } from '../git/runner.js';
import { isValidKey } from '../annex/keys.js';
import { isSha } from '../git/sha.js';

/** Symlink targets and pointer files are a few hundred bytes; a larger blob is ordinary content. */
const MAX_POINTER_BYTES = 1024;

/** Extracts the key from a symlink target or a pointer file's content, or null. Pure. */
export function keyFromPointer(content: string): string | null {
  const line = content.split('\n')[0]?.trim() ?? '';
  const m = /(?:^|\/)annex\/objects\/(?:[^/]+\/)*([^/]+)$/.exec(line);
  if (!m || m[1] === undefined) return null;
  return isValidKey(m[1]) ? m[1] : null;
}

/**
 * Parses `git diff-tree -r -z --no-commit-id --diff-filter=ACMRT` into the new side of each change:
 * blob sha and path, for files that can hold an annex pointer (symlinks and regular files). Pure.
 */
export function parseDiffTree(z: string): Array<{ sha: string; path: string }> {
  const out: Array<{ sha: string; path: string }> = [];
  const parts = z.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const meta = parts[i] ?? '';
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(meta);
    if (!m) continue;
    const status = m[5];
    // R and C records carry two paths (old, new), others one; the new path is the last.
    i += status === 'R' || status === 'C' ? 2 : 1;
    const path = parts[i] ?? '';
    const mode = m[2];
    const sha = m[4] ?? '';
    if ((mode === '120000' || mode === '100644' || mode === '100755') && isSha(sha)) out.push({ sha, path });
  }
  return out;
}

/** New-side blob shas of a diff-tree listing (see parseDiffTree). Pure. */
export function parseDiffTreeBlobs(z: string): string[] {
  return parseDiffTree(z).map((e) => e.sha);
}

/** Keys whose files were added or changed between `from` (exclusive) and `to`. */
export async function keysAddedInRange(runner: Runner, from: string | null, to: string): Promise<string[]> {
  return [...new Set((await annexedInRange(runner, from, to)).map((e) => e.key))];
}

/**
 * Annexed files added or changed between `from` (exclusive) and `to`, with their keys. The paths
 * let TransferService.enqueueKeys plan just these files instead of scanning the whole tree.
 */
export async function annexedInRange(
  runner: Runner,
  from: string | null,
  to: string,
): Promise<Array<{ key: string; path: string }>> {
  const range = from ? [from, to] : ['--root', to];
  const d = await runner.git(['diff-tree', '-r', '-z', '--no-commit-id', '--diff-filter=ACMRT', ...range]);
  const changes = parseDiffTree(d.stdout);
  const shas = [...new Set(changes.map((c) => c.sha))];
  if (shas.length === 0) return [];
  const check = await runner.git(['cat-file', '--batch-check'], { input: shas.join('\n') + '\n' });
  const small: string[] = [];
  for (const line of check.stdout.split('\n')) {
    const [sha, type, size] = line.split(' ');
    if (type === 'blob' && sha && isSha(sha) && Number(size) <= MAX_POINTER_BYTES) small.push(sha);
  }
  if (small.length === 0) return [];
  const cat = await runner.git(['cat-file', '--batch'], { input: small.join('\n') + '\n' });
  const keyOfSha = new Map<string, string>();
  // Output: "<sha> blob <size>\n<content>\n" per object. Sizes are in bytes, so walk a Buffer.
  const buf = Buffer.from(cat.stdout, 'utf8');
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isFinite(size) || !header[0]) break;
    const k = keyFromPointer(buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    if (k) keyOfSha.set(header[0], k);
    pos = nl + 1 + size + 1;
  }
  const out: Array<{ key: string; path: string }> = [];
  for (const c of changes) {
    const key = keyOfSha.get(c.sha);
    if (key) out.push({ key, path: c.path });
  }
  return out;
}
