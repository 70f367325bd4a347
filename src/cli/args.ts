// The argument parser: a pure function of argv and the verb tables in usage.ts. Each verb declares
// its flags (boolean, or taking a value) and how many positionals it takes; anything else is
// refused with one line that names the bad argument and the help to read (exit 2).
//
// `node:util` parseArgs splits argv into tokens (an option with its value, `--x=v` or `--x v`, a
// positional, the `--` that ends the options), reading each verb's table from usage.ts. It runs with
// strict: false and the checks are made here, on the tokens, in the order of argv: in strict mode
// Node refuses with its own messages, which neither name the verb's help nor say which option was
// wrong in a way we could use without reading its text, and it refuses `-C --x`, where -C takes
// whatever follows it as its path.
import { resolve } from 'node:path';
import { parseArgs as tokenize, type ParseArgsConfig } from 'node:util';
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

type Options = NonNullable<ParseArgsConfig['options']>;

/** What util.parseArgs says of one argument (its Token type is not exported). */
type Token =
  | {
      kind: 'option';
      index: number;
      name: string;
      rawName: string;
      value: string | undefined;
      inlineValue: boolean | undefined;
    }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

/** The options of every verb, before or after it (usage.ts GLOBAL_FLAGS). */
const GLOBAL_OPTIONS: Options = {
  C: { type: 'string', short: 'C' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The verb's table from usage.ts, as util.parseArgs reads it: `--remote R` is a string option. */
function verbOptions(spec: VerbSpec): Options {
  const options: Options = { ...GLOBAL_OPTIONS };
  for (const f of spec.flags) options[f.name.replace(/^--/, '')] = { type: f.value ? 'string' : 'boolean' };
  return options;
}

function tokens(args: readonly string[], options: Options): Token[] {
  return (tokenize({ args: [...args], options, strict: false, allowPositionals: true, tokens: true })
    .tokens ?? []) as Token[];
}

/**
 * The option's name as written: `--jid` of `--jid=x`, `-C`. An argument that util.parseArgs took apart
 * (a group `-xy`, a short option with its value glued on, `-Cdir`) is one option named by the whole
 * argument, which no table has: refused whole, as `-xy`.
 */
function writtenName(t: Extract<Token, { kind: 'option' }>, args: readonly string[]): string {
  const raw = args[t.index]!;
  const eq = raw.indexOf('=');
  return raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
}

/** A value that looks like an option is a forgotten value (`--jid --yes`); `--jid=-x` still works. */
function looksLikeOption(v: string): boolean {
  return v.startsWith('-') && v !== '-';
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
  // -h or --help asks for help whatever else is wrong with the line: `start --bogus --help` shows
  // the help of start. Only the verb (the first word that is not -C's path) is read then.
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  if (head.some((x) => x === '-h' || x === '--help')) return helpArgs(a, head);

  let spec: VerbSpec | undefined;
  const bad = (what: string): never => {
    throw new CliError('bad-usage', `${what}; ${seeHelp(spec ? spec.name : null)}`);
  };
  /** -C, --debug and a --help or --debug with a value: the options every verb has. */
  const global = (t: Extract<Token, { kind: 'option' }>, name: string, args: readonly string[]): boolean => {
    if (name === '-C') {
      if (t.value === undefined || t.value === '') bad('-C needs a path (-C <repository>)');
      a.cwd = resolve(a.cwd, t.value!);
      a.cwdGiven = true;
      return true;
    }
    if (name === '--debug' || name === '--help') {
      // A bare --help never gets here (see above): this is --help=x or --debug[=x].
      if (t.inlineValue) bad(`${name} takes no value (got '${args[t.index]}')`);
      a.debug = true;
      return true;
    }
    return false;
  };

  // Up to the verb, only the options every verb has.
  let rest: string[] = [];
  let onlyPositionals = false;
  for (const t of tokens(argv, GLOBAL_OPTIONS)) {
    if (t.kind === 'option-terminator') {
      onlyPositionals = true;
      continue;
    }
    if (t.kind === 'option') {
      const name = writtenName(t, argv);
      if (!global(t, name, argv))
        bad(`unknown option ${name} before the verb (a verb's options go after it)`);
      continue;
    }
    spec = verbSpec(t.value);
    if (!spec) throw new CliError('bad-usage', `unknown verb '${t.value}'; ${seeHelp(null)}`);
    a.verb = t.value;
    rest = argv.slice(t.index + 1);
    break;
  }

  // After the verb, its own options too; past `--`, everything is a positional.
  if (spec && onlyPositionals) a.positional.push(...rest);
  else if (spec) {
    for (const t of tokens(rest, verbOptions(spec))) {
      if (t.kind === 'option-terminator') continue;
      if (t.kind === 'positional') {
        a.positional.push(t.value);
        continue;
      }
      const name = writtenName(t, rest);
      if (global(t, name, rest)) continue;
      const flag = spec.flags.find((f) => f.name === name);
      if (!flag) bad(`'${spec.name}' has no option ${name}`);
      if (a.flags.has(name)) bad(`${name} is given twice`);
      if (!flag!.value) {
        if (t.inlineValue) bad(`${name} takes no value (got '${rest[t.index]}')`);
        a.flags.set(name, true);
        continue;
      }
      const value =
        t.inlineValue === false && t.value !== undefined && looksLikeOption(t.value) ? '' : t.value;
      if (value === undefined || value === '') bad(`${name} needs a value (${name} ${flag!.value})`);
      a.flags.set(name, value!);
    }
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

/**
 * The line asks for help: only -C, --debug and the verb are read, and nothing is refused but an
 * unknown verb. This scan is deliberately forgiving (an option it does not know is skipped, and so is
 * anything that is not exactly `-C` or `--debug`), so it reads argv itself, not util.parseArgs' tokens.
 */
function helpArgs(a: Args, head: readonly string[]): Args {
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
