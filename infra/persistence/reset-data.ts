import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

/** `npm run reset`: wipes the embedded database (stop the shop first). */
const dataDir = resolve(process.env.FICUS_DATA_DIR ?? '.data');
rmSync(resolve(dataDir, 'postgres'), { recursive: true, force: true });
process.stdout.write(`removed ${resolve(dataDir, 'postgres')}\n`);
