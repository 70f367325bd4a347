// Compares watchers on a big tree: kernel watches, time to armed, RSS, files missed under a nested burst.
import { fork, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
const [root, nFolders = '1000', perFolder = '100', kinds = 'folder,parcel,chokidar'] = process.argv.slice(2);
if (!existsSync(join(root, '.done'))) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (let d = 0; d < +nFolders; d++) {
    const dir = join(root, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < +perFolder; f++) writeFileSync(join(dir, `f${f}.txt`), `folder ${d} file ${f}\n`);
  }
  writeFileSync(join(root, '.done'), '');
}
for (const kind of kinds.split(',')) {
  rmSync(join(root, 'burst'), { recursive: true, force: true });
  const child = fork(new URL('./watch-child.mjs', import.meta.url), [kind, root]);
  const msg = () => new Promise((r) => child.once('message', r));
  const armed = await msg();
  // 5,000 files into 250 new nested folders, depth 1-4, as fast as the disk takes them
  const files = [];
  for (let i = 0; i < 250; i++) {
    const dir = join(root, 'burst', ...[`a${i}`, 'b', 'c', 'd'].slice(0, 1 + (i % 4)));
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 20; f++) { const p = join(dir, `x${f}.bin`); writeFileSync(p, 'y'.repeat(64 + ((i * 20 + f) % 448))); files.push(p); }
  }
  let got = { count: 0 };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    child.send({ count: true });
    got = await msg();
    if (got.count >= files.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(JSON.stringify({ kind, files: +nFolders * +perFolder, armedMs: Math.round(armed.armedMs), rssMB: Math.round(armed.rss / 1e6), watches: armed.watches, burstSeen: got.count, burstMissed: files.length - got.count, rssAfterMB: Math.round(got.rss / 1e6), watchesAfter: got.watches }));
  child.send({ exit: true });
  await new Promise((r) => child.once('exit', r));
}
rmSync(join(root, 'burst'), { recursive: true, force: true });
