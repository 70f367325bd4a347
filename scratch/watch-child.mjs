// One watcher kind in its own process: arm on the tree, say when armed, collect reported paths.
import { readdirSync, readlinkSync, readFileSync, watch, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
const [kind, root] = process.argv.slice(2);
const req = createRequire('/work/wt/B/package.json');
const seen = new Set();
const rel = (p) => relative(root, p);
function inotifyWatches() {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try { if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue; } catch { continue; }
    n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return n;
}
const t0 = performance.now();
if (kind === 'chokidar') {
  const { watch: cw } = req('chokidar');
  const w = cw(root, { ignoreInitial: true, followSymlinks: false, atomic: false, ignored: (p) => p.includes('/.git') });
  w.on('add', (p) => seen.add(rel(p))).on('change', (p) => seen.add(rel(p)));
  await new Promise((r) => w.once('ready', r));
} else if (kind === 'parcel') {
  const pw = createRequire('/work/wt/B/scratch/package.json')('@parcel/watcher');
  await pw.subscribe(root, (err, evs) => { for (const e of evs ?? []) seen.add(rel(e.path)); }, { ignore: ['.git'] });
} else {
  // one fs.watch per folder; a new folder is armed, then read, so files written before arming count
  const watched = new Map();
  const arm = (dir, scan) => {
    if (watched.has(dir)) return;
    let w;
    try { w = watch(dir, { persistent: true }, (_ev, name) => onEv(dir, name)); } catch (e) { if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return; throw e; }
    watched.set(dir, w);
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (d.name === '.git') continue;
      const p = join(dir, d.name);
      if (d.isDirectory()) arm(p, scan); else if (scan) seen.add(rel(p));
    }
  };
  const onEv = (dir, name) => {
    if (!name) return;
    const p = join(dir, name);
    let st; try { st = lstatSync(p); } catch { seen.add(rel(p)); return; }
    if (st.isDirectory()) arm(p, true); else seen.add(rel(p));
  };
  arm(root, false);
}
const armedMs = performance.now() - t0;
const rss = process.memoryUsage().rss;
process.send({ armed: true, armedMs, rss, watches: inotifyWatches() });
process.on('message', (m) => {
  if (m.count) process.send({ count: [...seen].filter((p) => p.startsWith('burst') && p.endsWith('.bin')).length, rss: process.memoryUsage().rss, watches: inotifyWatches() });
  if (m.exit) process.exit(0);
});
