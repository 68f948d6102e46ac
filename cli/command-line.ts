/**
 * One command-line contract for every voxgate CLI: `--help`/`-h` prints the options and exits 0;
 * an unknown option, a missing value or a stray argument prints one line and the usage on stderr
 * and exits 2 (the shell convention for misuse), never a stack trace. node:util's `parseArgs`
 * does the parsing; this adds the help text and the exit codes, so each CLI only declares its
 * options with a line of help each.
 *
 * Lives outside gateway/, node-runtime/ and the tools so that each of them can import it
 * without importing another's code.
 *
 * @example
 * const cli = defineCommand({
 *   name: 'npm run gateway --',
 *   summary: 'The gateway process.',
 *   options: { config: { type: 'string', value: 'FILE', help: 'gateway config', default: 'config/local.yaml' } },
 * });
 * const { values } = readCommandLine(cli); // exits 0 on --help, 2 on a bad flag
 * @module
 */
import { parseArgs } from 'node:util';

/** One option: what node:util's parseArgs takes, plus a line of help and a value placeholder. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** Placeholder shown in the help for a string option (`--config FILE`). */
  value?: string;
  help: string;
}

export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** How the command is invoked, as shown in the usage line (`npm run gateway --`). */
  name: string;
  /** What follows the name in the usage line; default `[options]`. */
  usage?: string;
  summary: string;
  options: O;
  positionals?: boolean;
  /** Extra help after the options: sub-commands, environment variables, exit codes. */
  notes?: string;
}

type ParserOptions<O extends Record<string, OptionSpec>> = { [K in keyof O]: Omit<O[K], 'help' | 'value'> };
type Parsed<O extends Record<string, OptionSpec>> = ReturnType<typeof parseArgs<{ options: ParserOptions<O>; allowPositionals: true; strict: true }>>;

/** A misuse of the command line: the message is one line meant for the user. */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
}

/** Identity with type inference: keeps each option's literal type for the parsed values. */
export function defineCommand<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** The options in the shape node:util's parseArgs takes (help text stripped). */
export function parserOptions<O extends Record<string, OptionSpec>>(options: O): ParserOptions<O> {
  const out: Record<string, Omit<OptionSpec, 'help' | 'value'>> = {};
  for (const [name, { help: _help, value: _value, ...rest }] of Object.entries(options)) out[name] = rest;
  return out as ParserOptions<O>;
}

/** The full help text: usage line, summary, one line per option, notes. */
export function formatHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    return [flag, `${o.help}${dflt}`] as const;
  });
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const lines = [usageLine(spec), '', spec.summary.trim(), '', 'Options:', ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`)];
  if (spec.notes) lines.push('', spec.notes.trim());
  return `${lines.join('\n')}\n`;
}

function usageLine(spec: CommandSpec): string {
  return `Usage: ${spec.name} ${spec.usage ?? '[options]'}`;
}

/**
 * Parses `argv` against the spec. Returns `'help'` when `--help`/`-h` is present (anywhere),
 * else the parsed values; throws CommandLineError on a misuse. Pure: no printing, no exit.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> | 'help' {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) return 'help';
  try {
    const parsed = parseArgs({ args: argv, options: parserOptions(spec.options), allowPositionals: true, strict: true });
    if (!spec.positionals && parsed.positionals.length > 0) throw new CommandLineError(`unexpected argument '${parsed.positionals[0]}'`);
    return parsed;
  } catch (err) {
    if (err instanceof CommandLineError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new CommandLineError(oneLine((err as Error).message), { cause: err });
    throw err;
  }
}

/** node's messages append a hint about `--` to the problem; the first sentence names it. */
function oneLine(message: string): string {
  const first = message
    .split(/\.\s|\n/)[0]!
    .trim()
    .replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/**
 * The CLI entry: parses `process.argv` (or `argv`), prints the help and exits 0 on `--help`,
 * prints `<name>: <problem>` and the usage line and exits 2 on a misuse; otherwise returns the
 * parsed values and positionals.
 */
export function readCommandLine<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: readonly string[] = process.argv.slice(2)): Parsed<O> {
  let parsed: Parsed<O> | 'help';
  try {
    parsed = parseCommandLine(spec, argv);
  } catch (err) {
    if (err instanceof CommandLineError) exitWithUsage(spec, err.message);
    throw err;
  }
  if (parsed === 'help') {
    process.stdout.write(formatHelp(spec));
    process.exit(0);
  }
  return parsed;
}

/** Prints one line naming the problem plus the usage line, and exits 2. */
export function exitWithUsage(spec: CommandSpec, problem: string): never {
  process.stderr.write(`${spec.name.replace(/ --$/, '')}: ${problem}\n${usageLine(spec)}\nRun with --help for the options.\n`);
  process.exit(2);
}
