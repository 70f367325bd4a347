#!/usr/bin/env node
// `git-autosync` / `git autosync <verb>`: the command line. It parses argv (args.ts), hands the verb
// to its file under commands/, and turns what ends it into an exit status (exit-codes.ts: 0 ok,
// 1 failed, 2 bad usage or bad input) and, on failure, one line on stderr that says what to do;
// --debug adds the stack of an unexpected error.
import { statSync } from 'node:fs';
import { takeSecretEnv } from '../git/runner.js';
import { parseArgs } from './args.js';
import { usage } from './usage.js';
import { CliError, EXIT, exitCodeOf, isExpected } from './exit-codes.js';
import { COMMANDS } from './commands/index.js';

async function main(argv: string[]): Promise<number> {
  // Secrets in our environment (the XMPP password) are kept in memory and never reach a child.
  takeSecretEnv();
  const args = parseArgs(argv, process.cwd());
  // Help needs no repository: it comes before the -C check.
  if (args.help || args.verb === 'help') return (await import('./commands/help.js')).run(args);
  if (args.verb === null) {
    process.stderr.write(usage() + '\n');
    return EXIT.usage;
  }
  if (args.cwdGiven) requireDirectory(args.cwd);
  const command = COMMANDS[args.verb];
  return command ? (await command()).run(args) : EXIT.usage;
}

/** `-C somefile` would reach git as "spawn ENOTDIR": say what is wrong instead. */
function requireDirectory(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new CliError('bad-input', `${path} does not exist; pass -C <repository>`);
  }
  if (!st.isDirectory()) throw new CliError('bad-input', `${path} is not a directory; pass -C <repository>`);
}

const argv = process.argv.slice(2);
// The reader of our output went away (`status --watch | head -3`): there is nobody left to tell
// anything, and nothing failed. Exit quietly, 0, as other Unix tools do on a closed pipe.
// Any other error on stdout is one line too, never a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`git-autosync: cannot write the output (${e.code ?? e.message})\n`);
  process.exit(1);
});
main(argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isExpected(e)) {
      process.stderr.write(`git-autosync: ${e.message}\n`);
      process.exit(exitCodeOf(e));
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`git-autosync: ${msg.split('\n')[0]}\n`);
    if (argv.includes('--debug') && e instanceof Error) process.stderr.write((e.stack ?? '') + '\n');
    process.exit(exitCodeOf(e));
  },
);
