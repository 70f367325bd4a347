// `init`: prepares a repository for syncing. Safe to run again (nothing is overwritten). In an
// annex repository that this clone has not initialised, `git annex init` runs first. With --yes it
// only takes flags; in a terminal without --yes it asks a few questions (the setup wizard).
// Every value, from an option or the config already there, goes through the check of its key
// (agent/config.ts CONFIG_CHECKS) before anything is written: a wrong one is exit 2.
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import { writeFileSync, chmodSync } from 'node:fs';
import { UserError } from '../git/errors.js';
import { discover, ensureKeyFile, ensureStateDir, hasUninitialisedAnnex, requireAnnex } from '../git/repo.js';
import { Runner } from '../git/runner.js';
import { configProblem, loadConfig } from '../agent/config.js';

const XMPP_FLAGS = ['jid', 'room', 'service', 'resource'] as const;

export async function init(cwd: string, flags: Map<string, string | true>): Promise<number> {
  // Options first: a wrong value stops init before it has changed anything.
  for (const k of XMPP_FLAGS) {
    const v = flags.get(`--${k}`);
    const problem = typeof v === 'string' ? configProblem(`autosync.xmpp.${k}`, v) : null;
    if (problem) throw new UserError(`--${k}: ${problem}`);
  }
  const runner = new Runner(cwd);
  // An annex clone that was never initialised here has no annex.uuid yet: discover() would call
  // it plain git, so annex init comes first.
  try {
    if (await hasUninitialisedAnnex(cwd)) {
      await requireAnnex();
      await runner.git(['annex', 'init', '--quiet']);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    // Not a repository at all: discover() below says so clearly.
  }
  const info = await discover(cwd);
  ensureStateDir(info);
  const setIfUnset = async (key: string, value: string) => {
    const cur = await runner.git(['config', '--local', '--get', key], { okCodes: [1] });
    if (cur.code === 1) await runner.git(['config', '--local', key, value]);
  };
  for (const k of XMPP_FLAGS) {
    const v = flags.get(`--${k}`);
    if (typeof v === 'string') await runner.git(['config', '--local', `autosync.xmpp.${k}`, v]);
  }
  if (info.mode === 'annex') {
    // Annexed files stay ordinary editable files (unlocked), never read-only symlinks.
    await setIfUnset('annex.addunlocked', 'true');
  }
  // The config already there is checked too (exit 2 naming the key).
  let config = await loadConfig(runner, info);
  const interactive = process.stdin.isTTY && process.stdout.isTTY && !flags.has('--yes');
  if (interactive) {
    await wizard(runner, info.stateDir);
    config = await loadConfig(runner, info);
  }
  ensureKeyFile(config.keyFile);
  process.stdout.write(
    `git-autosync: ${info.workTree} is ready (${info.mode} mode). Start syncing with 'git autosync start'.\n` +
      `The repository key is in ${config.keyFile}; copy it to the other clones so they accept each other's signals.\n`,
  );
  return 0;
}

async function wizard(runner: Runner, stateDir: string): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    process.stdout.write('git-autosync setup. Press Enter to keep the default shown in brackets.\n');
    const jid = (await rl.question('XMPP account for instant sync (e.g. alice@example.org) [none]: ')).trim();
    if (!jid) return;
    if (!/^[^@/\s]+@[^@/\s]+$/.test(jid))
      throw new UserError(`'${jid}' is not an XMPP address like alice@example.org`);
    await runner.git(['config', '--local', 'autosync.xmpp.jid', jid]);
    const room = (
      await rl.question('Shared room (MUC) for the clones [none: use this account only]: ')
    ).trim();
    if (room) await runner.git(['config', '--local', 'autosync.xmpp.room', room]);
    const pw = (
      await rl.question('Password (stored in .git/autosync/xmpp-password, mode 0600) [skip]: ')
    ).trim();
    if (pw) {
      const file = join(stateDir, 'xmpp-password');
      writeFileSync(file, pw + '\n', { mode: 0o600 });
      chmodSync(file, 0o600);
      await runner.git(['config', '--local', 'autosync.xmpp.passwordFile', file]);
    }
  } finally {
    rl.close();
  }
}
