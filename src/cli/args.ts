// The argument parser: a pure function of argv and the verb tables in usage.ts. Each verb declares
// its flags (boolean, or taking a value) and how many positionals it takes; anything else is
// refused with one line that names the bad argument and the help to read (exit 2).
import { resolve } from 'node:path';
import { CliError } from './exit-codes.js';
import { verbSpec, type VerbSpec } from './usage.js';

export interface Args {
  cwd: string;
  /** True when -C was given (then cwd must be a directory: main checks it). */
  cwdGiven: boolean;
  verb: string | null;
  flags: Map<string, string | true>;
  positional: string[];
  debug: boolean;
  /** -h or --help anywhere: print the help of the verb (or the usage) and nothing else. */
  help: boolean;
}

function seeHelp(verb: string | null): string {
  return verb ? `see 'git autosync help ${verb}'` : "see 'git autosync help'";
}

/**
 * Parses argv (without node and the script). `git autosync -C dir status --json` and
 * `status --json -C dir` are the same; a verb's options go after the verb.
 */
export function parseArgs(argv: readonly string[], cwd: string): Args {
  const a: Args = {
    cwd,
    cwdGiven: false,
    verb: null,
    flags: new Map(),
    positional: [],
    debug: false,
    help: false,
  };
  let spec: VerbSpec | undefined;
  const bad = (what: string): never => {
    throw new CliError('bad-usage', `${what}; ${seeHelp(spec ? spec.name : null)}`);
  };
  // -h or --help asks for help whatever else is wrong with the line: `start --bogus --help` shows
  // the help of start. Only the verb (the first word that is not -C's path) is read then.
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  if (head.some((x) => x === '-h' || x === '--help')) {
    a.help = true;
    for (let i = 0; i < head.length; i++) {
      const x = head[i]!;
      if (x === '-C') {
        const p = head[++i];
        if (p) a.cwd = resolve(a.cwd, p);
        a.cwdGiven = p !== undefined;
      } else if (x === '--debug') a.debug = true;
      else if (a.verb === null && !x.startsWith('-')) {
        if (!verbSpec(x)) throw new CliError('bad-usage', `unknown verb '${x}'; ${seeHelp(null)}`);
        a.verb = x;
      }
    }
    return a;
  }
  let onlyPositionals = false;
  const positional = (x: string) => {
    if (a.verb === null) {
      spec = verbSpec(x);
      if (!spec) throw new CliError('bad-usage', `unknown verb '${x}'; ${seeHelp(null)}`);
      a.verb = x;
    } else a.positional.push(x);
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (onlyPositionals || x === '-' || !x.startsWith('-')) {
      positional(x);
      continue;
    }
    if (x === '--') {
      onlyPositionals = true;
      continue;
    }
    if (x === '-C') {
      const p = argv[++i];
      if (p === undefined || p === '') bad('-C needs a path (-C <repository>)');
      a.cwd = resolve(a.cwd, p!);
      a.cwdGiven = true;
      continue;
    }
    const eq = x.indexOf('=');
    const name = x.startsWith('--') && eq > 0 ? x.slice(0, eq) : x;
    const inline = x.startsWith('--') && eq > 0 ? x.slice(eq + 1) : null;
    if (name === '--debug' || name === '--help') {
      // A bare --help never gets here (see above): this is --help=x or --debug[=x].
      if (inline !== null) bad(`${name} takes no value (got '${x}')`);
      a.debug = true;
      continue;
    }
    if (!spec) bad(`unknown option ${name} before the verb (a verb's options go after it)`);
    const flag = spec!.flags.find((f) => f.name === name);
    if (!flag) bad(`'${spec!.name}' has no option ${name}`);
    if (a.flags.has(name)) bad(`${name} is given twice`);
    if (!flag!.value) {
      if (inline !== null) bad(`${name} takes no value (got '${x}')`);
      a.flags.set(name, true);
      continue;
    }
    let value = inline;
    if (value === null) {
      const next = argv[i + 1];
      // A value that looks like an option is a forgotten value (`--jid --yes`); --jid=-x still works.
      if (next !== undefined && !(next.startsWith('-') && next !== '-')) value = argv[++i]!;
    }
    if (value === null || value === '') bad(`${name} needs a value (${name} ${flag!.value})`);
    a.flags.set(name, value!);
  }
  if (spec) {
    const { min, max, names } = spec.positionals;
    if (a.positional.length > max) {
      const extra = a.positional[max]!;
      bad(
        max === 0
          ? `'${spec.name}' takes no arguments (got '${extra}')`
          : `'${spec.name}' takes at most ${max} argument${max > 1 ? 's' : ''} (got '${extra}' too)`,
      );
    }
    if (a.positional.length < min)
      bad(`'${spec.name}' needs ${names.slice(a.positional.length, min).join(' ')}`);
  }
  return a;
}
