import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  availabilityChanges,
  diffMounts,
  localRemoteAvailable,
  mountOf,
  parseMountinfo,
  type FsProbe,
} from '../../../src/map/mounts.js';

// A mountinfo as Linux writes it (proc(5)), with a drive whose label has a space (\040), an
// optional-fields run of two, and one line that is not of that shape.
const INFO = [
  '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw',
  '25 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw',
  '90 22 8:17 / /media/u/My\\040Drive rw,nosuid shared:50 master:2 - vfat /dev/sdb1 rw,uid=1000',
  'garbage line',
  '91 90 7:0 / /media/u/My\\040Drive/inner rw - ext4 /dev/loop0 rw',
].join('\n');

test('parseMountinfo: fields, octal escapes, optional fields; bad lines skipped', () => {
  const m = parseMountinfo(INFO);
  assert.deepEqual(
    m.map((x) => [x.id, x.parentId, x.mountPoint, x.fsType, x.source]),
    [
      [22, 1, '/', 'ext4', '/dev/nvme0n1p2'],
      [25, 22, '/proc', 'proc', 'proc'],
      [90, 22, '/media/u/My Drive', 'vfat', '/dev/sdb1'],
      [91, 90, '/media/u/My Drive/inner', 'ext4', '/dev/loop0'],
    ],
  );
});

test('diffMounts: by mount ID; a remount (new ID) is a removal and an addition', () => {
  const before = parseMountinfo(INFO);
  const after = parseMountinfo(
    INFO.replace('90 22 8:17', '95 22 8:17')
      .replace('91 90', '91 95')
      .replace('25 22 0:21 / /proc', '25 22 0:21 / /proc'),
  );
  const d = diffMounts(before, after);
  assert.deepEqual(
    d.added.map((x) => x.id),
    [95],
  );
  assert.deepEqual(
    d.removed.map((x) => x.id),
    [90],
  );
  assert.deepEqual(diffMounts(before, before), { added: [], removed: [] });
});

test('mountOf: the longest mount point above the path; a sibling with a common prefix does not count', () => {
  const m = parseMountinfo(INFO);
  const rows: Array<[string, number | null]> = [
    ['/media/u/My Drive/repo', 90],
    ['/media/u/My Drive/inner/x', 91],
    ['/media/u/My Drive2/repo', 22],
    ['/proc/self', 25],
    ['relative/path', null],
  ];
  for (const [p, id] of rows) assert.equal(mountOf(p, m)?.id ?? null, id, p);
});

function probe(files: string[], full: string[] = []): FsProbe {
  return {
    exists: (p) => files.includes(p) || full.includes(p) || files.some((f) => f.startsWith(p + '/')),
    hasEntries: (p) => full.includes(p) || files.some((f) => f.startsWith(p + '/')),
  };
}

test('localRemoteAvailable: a repository, never a bare mount point', () => {
  const mounted = parseMountinfo(INFO);
  const unmounted = mounted.filter((x) => x.id === 22 || x.id === 25);
  const rows: Array<{
    name: string;
    kind: 'git' | 'directory';
    path: string;
    fs: FsProbe;
    mounts: typeof mounted;
    want: boolean;
  }> = [
    {
      name: 'work tree',
      kind: 'git',
      path: '/home/u/r',
      fs: probe(['/home/u/r/.git']),
      mounts: mounted,
      want: true,
    },
    {
      name: 'bare',
      kind: 'git',
      path: '/srv/r.git',
      fs: probe(['/srv/r.git/HEAD']),
      mounts: mounted,
      want: true,
    },
    {
      name: 'missing',
      kind: 'git',
      path: '/media/u/My Drive/r',
      fs: probe([]),
      mounts: unmounted,
      want: false,
    },
    {
      name: 'the empty mount point itself named as a git remote',
      kind: 'git',
      path: '/media/u/My Drive',
      fs: probe([], ['/media/u/My Drive']),
      mounts: unmounted,
      want: false,
    },
    {
      name: 'git remote: an empty mount point on an ordinary disk (its drive is out)',
      kind: 'git',
      path: '/srv/usb/r',
      fs: {
        exists: (p) => p === '/srv/usb' || p === '/srv' || p === '/',
        hasEntries: (p) => p !== '/srv/usb',
      },
      mounts: unmounted,
      want: false,
    },
    {
      name: 'git remote: a mistyped or deleted path inside a folder with other things is no drive',
      kind: 'git',
      path: '/home/u/b/gone',
      fs: probe(['/home/u/b/.git/HEAD']),
      mounts: mounted,
      want: true,
    },
    {
      name: 'directory remote on a drive that is in',
      kind: 'directory',
      path: '/media/u/My Drive/annex',
      fs: probe(['/media/u/My Drive/annex/x']),
      mounts: mounted,
      want: true,
    },
    {
      name: 'directory remote: an empty mount point under /mnt with nothing mounted',
      kind: 'directory',
      path: '/mnt/usb',
      fs: { exists: (p) => p === '/mnt/usb', hasEntries: () => false },
      mounts: unmounted,
      want: false,
    },
    {
      name: 'directory remote: empty, but its drive is mounted (a new remote)',
      kind: 'directory',
      path: '/media/u/My Drive',
      fs: { exists: () => true, hasEntries: () => false },
      mounts: mounted,
      want: true,
    },
    {
      name: 'directory remote: empty, on an ordinary disk',
      kind: 'directory',
      path: '/srv/annex',
      fs: { exists: () => true, hasEntries: () => false },
      mounts: unmounted,
      want: true,
    },
  ];
  for (const r of rows) assert.equal(localRemoteAvailable(r.kind, r.path, r.fs, r.mounts), r.want, r.name);
});

test('availabilityChanges: only what changed, in name order', () => {
  const before = new Map([
    ['drive', false],
    ['desk', true],
  ]);
  const after = new Map([
    ['drive', true],
    ['desk', true],
    ['new', false],
  ]);
  assert.deepEqual(availabilityChanges(before, after), [
    { remote: 'drive', available: true },
    { remote: 'new', available: false },
  ]);
});
