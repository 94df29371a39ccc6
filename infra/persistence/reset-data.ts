import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readProcessEnv } from '@infra/host';
import { runningServer } from './server-lock-file';

/**
 * `npm run reset`: wipes the embedded database. Refuses while its server still runs (a shop that
 * is up, or one killed without a chance to stop it): wiping under a live server corrupts nothing
 * useful but leaves a confusing half-state.
 */
const dataDir = resolve(readProcessEnv().FICUS_DATA_DIR, 'postgres');
const pid = runningServer(resolve(dataDir, 'cluster'));
if (pid !== undefined) {
  process.stderr.write(
    `the embedded PostgreSQL (pid ${pid}) still runs on ${dataDir}: stop the shop first ` +
      `(Ctrl-C), or stop the server with: kill ${pid}\n`,
  );
  process.exit(1);
}
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`removed ${dataDir}\n`);
