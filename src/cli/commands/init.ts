// `init`: prepares a repository for syncing. Safe to run again (nothing is overwritten). In an
// annex repository that this clone has not initialised, `git annex init` runs first. With --yes it
// only takes flags; in a terminal without --yes it asks a few questions (the setup wizard).
// Every value, from an option, the wizard or the config already there, goes through the check of
// its key (agent/config.ts CONFIG_CHECKS) before anything is written: a wrong one is exit 2.
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { writeFileSync, chmodSync } from 'node:fs';
import { UserError } from '../../core/errors.js';
import {
  discover,
  ensureKeyFile,
  ensureStateDir,
  hasUninitialisedAnnex,
  requireAnnex,
} from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { CliError } from '../exit-codes.js';
import type { Args } from '../args.js';
import { configProblem, loadConfig } from '../../agent/config.js';
import { statePaths } from '../../git/state-paths.js';

const XMPP_FLAGS = ['jid', 'room', 'service', 'resource'] as const;

export function run(args: Args): Promise<number> {
  return init(args.cwd, args.flags);
}

export async function init(cwd: string, flags: Map<string, string | true>): Promise<number> {
  // Options first: a wrong value stops init before it has changed anything.
  for (const k of XMPP_FLAGS) {
    const v = flags.get(`--${k}`);
    const problem = typeof v === 'string' ? configProblem(`autosync.xmpp.${k}`, v) : null;
    if (problem) throw new CliError('bad-input', `--${k}: ${problem}`);
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
  // The config already there is checked too (exit 2 naming the key), before the wizard asks.
  let config = await loadConfig(runner, info);
  const interactive = process.stdin.isTTY && process.stdout.isTTY && !flags.has('--yes');
  if (interactive) {
    await wizard(runner, info.stateDir, config.xmpp);
    config = await loadConfig(runner, info);
  }
  ensureKeyFile(config.keyFile);
  process.stdout.write(
    `git-autosync: ${info.workTree} is ready (${info.mode} mode). Start syncing with 'git autosync start'.\n` +
      `The repository key is in ${config.keyFile}; copy it to the other clones so they accept each other's signals.\n`,
  );
  return 0;
}

/** Stdout, except while a password is typed: readline echoes every key, so that echo is dropped. */
class Muteable extends Writable {
  muted = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (!this.muted) process.stdout.write(chunk);
    done();
  }
}

/**
 * Asks again until the answer passes the check of `key` (its line names the key and what a right
 * value looks like). Enter alone keeps `def` (the value in the config, or `unset` when there is
 * none); "-" clears it. '' means unset.
 */
async function ask(rl: Interface, prompt: string, def: string, key: string, unset: string): Promise<string> {
  for (;;) {
    const answer = (await rl.question(`${prompt} [${def || unset}]: `)).trim();
    const v = answer === '' ? def : answer === '-' ? '' : answer;
    if (v === '') return '';
    const problem = configProblem(key, v);
    if (!problem) return v;
    process.stdout.write(`  ${problem}\n`);
  }
}

async function wizard(
  runner: Runner,
  stateDir: string,
  current: { jid: string | null; room: string | null; service: string | null; passwordFile: string | null },
): Promise<void> {
  const out = new Muteable();
  const rl = createInterface({ input: process.stdin, output: out, terminal: true, historySize: 0 });
  // Ctrl-C or Ctrl-D: nothing of the answers is written (they are written at the end, together).
  const aborted = new Promise<never>((_, reject) => {
    const stop = () =>
      reject(new CliError('cancelled', 'setup cancelled; nothing was changed by the wizard'));
    rl.on('SIGINT', stop);
    rl.on('close', stop);
  });
  const q = <T>(p: Promise<T>) => Promise.race([p, aborted]);
  aborted.catch(() => undefined);
  try {
    process.stdout.write(
      'git-autosync setup. Press Enter to keep the value in brackets, "-" to clear it.\n' +
        'XMPP gives instant sync between clones anywhere; without it, clones hear of changes through their remotes.\n',
    );
    const jid = await q(
      ask(rl, 'XMPP account, like alice@example.org', current.jid ?? '', 'autosync.xmpp.jid', 'none'),
    );
    const set: Array<[string, string | null]> = [];
    if (!jid) {
      if (current.jid) set.push(['autosync.xmpp.jid', null]);
    } else {
      set.push(['autosync.xmpp.jid', jid]);
      const domain = jid.slice(jid.indexOf('@') + 1);
      const service = await q(
        ask(
          rl,
          'XMPP server, xmpp://host:port or xmpps://host:port',
          current.service ?? '',
          'autosync.xmpp.service',
          `found from ${domain}`,
        ),
      );
      set.push(['autosync.xmpp.service', service || null]);
      const room = await q(
        ask(
          rl,
          `Room shared by the clones, like sync@conference.${domain}`,
          current.room ?? '',
          'autosync.xmpp.room',
          'none: signal this account only',
        ),
      );
      set.push(['autosync.xmpp.room', room || null]);
      const file = statePaths(stateDir).xmppPassword;
      process.stdout.write(
        `Password (not shown as you type; kept in ${file}, mode 0600) [${current.passwordFile ? 'keep' : 'skip'}]: `,
      );
      out.muted = true;
      const pw = await q(rl.question('')).finally(() => {
        out.muted = false;
      });
      process.stdout.write('\n');
      if (pw) {
        writeFileSync(file, pw + '\n', { mode: 0o600 });
        chmodSync(file, 0o600);
        set.push(['autosync.xmpp.passwordFile', file]);
      }
    }
    for (const [key, value] of set) {
      if (value === null) await runner.git(['config', '--local', '--unset', key], { okCodes: [5] });
      else await runner.git(['config', '--local', key, value]);
    }
  } finally {
    rl.removeAllListeners('close');
    rl.close();
  }
}
