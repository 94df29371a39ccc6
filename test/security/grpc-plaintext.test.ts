import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * A split process does not fail open (issue 15 item 5): without mutual TLS it refuses to start,
 * unless plain text is asked for by name, and then it serves gRPC on loopback only (the second
 * half is checked where split processes run in plain text: split-readiness.test.ts).
 */
const ROOT = resolve(__dirname, '..', '..');

function startService(env: Record<string, string | undefined>): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'apps/service/src/main.ts',
      '--target',
      'catalog',
      '--topology',
      'infra/topology/split.yaml',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        FICUS_GRPC_TLS_DIR: undefined,
        FICUS_GRPC_PLAINTEXT: undefined,
        LOG_LEVEL: 'info',
        ...env,
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('split processes without mutual TLS', () => {
  it('refuse to start unless plain text is asked for by name, and say how to fix it', () => {
    const refused = startService({});
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain('gRPC between processes needs mutual TLS');
    expect(refused.output).toContain('FICUS_GRPC_PLAINTEXT=loopback');

    const misspelt = startService({ FICUS_GRPC_PLAINTEXT: 'yes' });
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.output).toContain('FICUS_GRPC_PLAINTEXT');
  });
});
