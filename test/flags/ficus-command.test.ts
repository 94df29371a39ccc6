import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { discoverCommands } from '../../apps/cli/src/main';
import { ficus } from './flags-cli';

const ROOT = join(__dirname, '../..');

describe('the ficus command', () => {
  it('finds every command file under apps/cli/src/commands, each under a name of its own', () => {
    const names = discoverCommands().map((command) => command.name);
    expect(names).toEqual(expect.arrayContaining(['contracts', 'flags', 'migrations']));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    [[], /Commands:\n(.|\n)*contracts(.|\n)*flags(.|\n)*migrations/],
    [['flags'], /on for a percentage of subjects(.|\n)*append-only log(.|\n)*Examples:/],
    [
      ['flags', 'list'],
      /--database-url <url>(.|\n)*--topology <file>(.|\n)*--target <name>(.|\n)*--json(.|\n)*embedded PostgreSQL/,
    ],
    [['flags', 'set'], /<name>(.|\n)*on \| off \| 0-100(.|\n)*--by <who>(.|\n)*--reason <text>(.|\n)*--force/],
    [['flags', 'history'], /change log of a flag(.|\n)*--limit <n>/],
    [['contracts', 'check'], /incompatibly with the released\s+contracts(.|\n)*--release(.|\n)*new\s+version/],
    [['migrations', 'lint'], /expand\s+step|expand-contract|would break the release(.|\n)*--release/],
  ])('explains `ficus %s --help`', async (words, expected) => {
    const help = await ficus([...words, '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(expected);
  });

  it('says what is wrong with a mistyped command, and fails', async () => {
    const wrong = await ficus(['flags', 'lst']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/unknown command 'lst'/);
  });

  it('runs the migration linter as `ficus migrations lint`', async () => {
    const lint = await ficus(['migrations', 'lint']);
    expect(lint).toMatchObject({ code: 0, err: '' });
    expect(lint.out).toMatch(/^migrations: expand-contract safe/);
    const json = await ficus(['migrations', 'lint', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, problems: [] });
  });

  it('runs the contract compatibility check as `ficus contracts check`', async () => {
    const check = await ficus(['contracts', 'check']);
    expect(check).toMatchObject({ code: 0, err: '' });
    expect(check.out).toBe('contracts: compatible with the released versions\n');
    const json = await ficus(['contracts', 'check', '--json']);
    expect(JSON.parse(json.out)).toEqual({ ok: true, problems: [] });
  });

  it('refuses --target without a topology, before touching any database', async () => {
    const { FICUS_TOPOLOGY: _ignored, ...env } = process.env;
    const result = await ficus(['flags', 'list', '--target', 'shipping'], env);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/--target needs a topology/);
  });

  it('says what the machine refused in one line, without a stack', async () => {
    const result = await ficus(['graph', '--format', 'text', '--out', '/no/such/folder/graph.txt']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /(^|\n)ficus: ENOENT: no such file or directory, open '\/no\/such\/folder\/graph\.txt'\n$/,
    );
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  it('never prints the password of a database URL it cannot read', async () => {
    for (const url of ['postgres://admin:S3cret@db:54x2/ficus', 'postgres://admin:S3c@ret@db:54x2/ficus']) {
      const result = await ficus(['flags', 'list', '--database-url', url]);
      expect(result.code).not.toBe(0);
      expect(result.err).toMatch(/is no URL/);
      expect(result.err).toContain('postgres://admin:***@db:54x2/ficus');
      expect(result.err).not.toMatch(/S3c/);
    }
  });

  it('works as `npx ficus` from the repository, through the bin shim', () => {
    const result = spawnSync('npx', ['--no-install', 'ficus', 'flags', 'set', '--help'], {
      cwd: join(ROOT, 'apps'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ficus flags set \[options\] <name> <state\.\.\.>/);
  });
});
