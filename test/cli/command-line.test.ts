/**
 * Every CLI a user can run answers `--help` with its options (exit 0) and a bad flag with one
 * line plus the usage (exit 2) — no stack trace. Each CLI is spawned for real, as `npm run X`
 * would run it; the parser's edge cases are checked in-process.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CommandLineError, defineCommand, formatHelp, parseCommandLine } from '../../cli/command-line.ts';
import { REPO_ROOT } from '../harness/index.ts';

interface Cli {
  script: string;
  /** Options the help must list (one per CLI at least, the ones a user reaches for first). */
  lists: string[];
}

const CLIS: Cli[] = [
  { script: 'gateway/src/main.ts', lists: ['--config FILE', '--port N', '--region NAME', '--no-watch'] },
  { script: 'node-runtime/src/main.ts', lists: ['--models-dir DIR', '--slots N', '--queue N', '--providers LIST', '--admin-token TOKEN'] },
  { script: 'node-runtime/src/packs/cli.ts', lists: ['stamp DIR', 'publish DIR', '--models-dir DIR'] },
  { script: 'gateway/src/canary/cli.ts', lists: ['--url URL', '--store FILE', '--json', 'Exit status'] },
  { script: 'cluster/src/main.ts', lists: ['--config FILE', 'PORT'] },
  { script: 'bench/run.ts', lists: ['--quick', '--only PHASES', '--report-only FILE'] },
  { script: 'test/chaos/run.ts', lists: ['--only IDS', '--soak DURATION', '--short'] },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Generous: each spawn loads the CLI's whole module graph through tsx, slow on a busy 2-core box.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('every CLI', () => {
  it.concurrent.each(CLIS)(
    '$script --help prints its options and exits 0',
    async ({ script, lists }) => {
      const r = await run(script, ['--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: npm (run \S+|start) --/);
      for (const option of [...lists, '-h, --help']) expect(r.stdout).toContain(option);
    },
    150_000,
  );

  it.concurrent.each(CLIS)(
    '$script with an unknown option: one line, the usage, exit 2',
    async ({ script }) => {
      const r = await run(script, ['--no-such-flag']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^npm (run \S+|start): unknown option '--no-such-flag'$/);
      expect(lines[1]).toMatch(/^Usage: /);
      expect(r.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack frame
      expect(r.stderr).not.toContain('ERR_PARSE_ARGS');
    },
    150_000,
  );
});

describe('parseCommandLine', () => {
  const spec = defineCommand({
    name: 'demo --',
    summary: 'A demo.',
    options: {
      config: { type: 'string', value: 'FILE', default: 'a.yaml', help: 'the config' },
      quiet: { type: 'boolean', short: 'q', help: 'say less' },
    },
  });

  it('returns typed values with defaults', () => {
    const parsed = parseCommandLine(spec, ['-q']);
    expect(parsed).not.toBe('help');
    if (parsed === 'help') return;
    expect(parsed.values.config).toBe('a.yaml');
    expect(parsed.values.quiet).toBe(true);
  });

  it('sees --help anywhere before `--`, and not after it', () => {
    expect(parseCommandLine(spec, ['--config', 'x', '-h'])).toBe('help');
    expect(() => parseCommandLine(spec, ['--', '--help'])).toThrow(/unexpected argument '--help'/);
  });

  it('names each misuse in one line', () => {
    const misuse = (argv: string[]) => {
      try {
        parseCommandLine(spec, argv);
      } catch (err) {
        expect(err).toBeInstanceOf(CommandLineError);
        return (err as Error).message;
      }
      throw new Error(`no error for ${argv.join(' ')}`);
    };
    expect(misuse(['--config'])).toBe("option '--config <value>' argument missing");
    expect(misuse(['--quiet=yes'])).toMatch(/^option '-q, --quiet' does not take an argument$/);
    expect(misuse(['stray'])).toBe("unexpected argument 'stray'");
    for (const m of [misuse(['--config']), misuse(['--nope'])]) expect(m).not.toContain('\n');
  });

  it('lists every option, its placeholder and default in the help', () => {
    const help = formatHelp(spec);
    expect(help).toContain('Usage: demo -- [options]');
    expect(help).toMatch(/--config FILE\s+the config \(default: a\.yaml\)/);
    expect(help).toMatch(/-q, --quiet\s+say less\n/);
    expect(help).toMatch(/-h, --help\s+print this help and exit/);
  });
});
