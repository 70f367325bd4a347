// Pairing a git-annex repository: the shared remote is a bare annex "cloud" over ssh (a private sshd
// on loopback), the XMPP server a real Prosody, same-account mode. The new device gets its own UUID
// from `git annex init` (never A's, never the cloud's), the group and wanted expression offered, and
// its agent fetches the content of an annexed file it wants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';
import { startSshd, type SshServer } from '../helpers/sshd.js';
import { cli } from '../helpers/agents.js';
import { initBareAnnex, uuidOf, writeBig } from '../helpers/annex.js';
import { GIT_ENV, tmpDir } from '../helpers/repos.js';
import { lastJson, runCli, startOffer } from '../helpers/pair.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'pairing horse';
let server: ProsodyServer;
let ssh: SshServer;
let root: { path: string; cleanup: () => void };
let ENV: NodeJS.ProcessEnv;

before(async () => {
  server = await startProsody();
  await server.register('anna', PASSWORD);
  ssh = await startSshd();
  root = tmpDir('gas-pair-annex-');
  ENV = { ...GIT_ENV, ...ssh.env, GIT_AUTOSYNC_XMPP_PASSWORD: PASSWORD };
});
after(async () => {
  await ssh?.stop();
  await server?.stop();
  root?.cleanup();
});

function g(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('annex: the new device has its own UUID, the offered group and wanted, and gets the content', async (t) => {
  const cloud = initBareAnnex(join(root.path, 'cloud.git'), 'cloud');
  const a = join(root.path, 'a');
  g(root.path, 'init', '-q', '-b', 'main', a);
  g(a, 'annex', 'init', '-q', 'laptop a');
  g(a, 'config', 'annex.addunlocked', 'true');
  g(a, 'remote', 'add', 'cloud', ssh.url(cloud));
  writeBig(join(a, 'big.bin'), 300_000);
  g(a, 'annex', 'add', '--quiet', 'big.bin');
  g(a, 'commit', '-qm', 'big');
  g(a, 'annex', 'sync', '--quiet', '--content', 'cloud');
  const init = cli(
    ['-C', a, 'init', '--yes', '--jid', `anna@${server.domain}`, '--service', server.service],
    {
      env: ENV,
    },
  );
  assert.equal(init.code, 0, init.stderr);

  const dir = join(root.path, 'b');
  const o = await startOffer(a, ENV);
  const acc = runCli(
    ['pair', '--accept', dir, '--jid', `anna@${server.domain}`, '--service', server.service],
    ENV,
    {
      cwd: root.path,
      input: o.code + '\n',
    },
  );
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  t.after(() => void cli(['-C', dir, 'stop'], { env: ENV }));
  assert.equal(ac, 0, acc.stderr);
  assert.equal(oc, 0, o.proc.stderr);
  assert.equal(lastJson(o.proc).paired, true);

  const uuid = uuidOf(dir);
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  assert.notEqual(uuid, uuidOf(a));
  assert.notEqual(uuid, uuidOf(cloud));
  assert.equal(g(dir, 'config', 'remote.cloud.annex-uuid').trim(), uuidOf(cloud));
  assert.equal(g(dir, 'annex', 'group', 'here').trim(), 'client');
  assert.equal(g(dir, 'annex', 'wanted', 'here').trim(), 'standard');
  // A client wants everything: its agent fetches the file's content from the cloud.
  await waitFor(
    () => {
      try {
        return readFileSync(join(dir, 'big.bin')).equals(readFileSync(join(a, 'big.bin')));
      } catch {
        return false;
      }
    },
    { what: 'the annexed content on the new device', timeoutMs: 90_000 },
  );
});
