import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
// A relative path: jest's globalSetup loads this file without the path aliases.
import { commaSeparated } from '../../config/variables';
import { acceptsConnections } from '../local/tcp-port';

/** What a test run or a benchmark run holds of a Kafka broker. */
export interface BrokerLease {
  /** host:port of the brokers to use. */
  readonly brokers: readonly string[];
  /** True when this lease started the local broker, which `release` then stops. */
  readonly startedHere: boolean;
  /** Stops the local broker if this lease started it; otherwise leaves everything as it was. */
  release(): void;
}

const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');

/**
 * A broker for a run that needs one, without leaving anything behind: KAFKA_BROKERS when set (then
 * nothing local is touched); else the local broker when one already answers (someone else's, left
 * running); else the local broker started now (`npm run kafka:start`) and stopped by `release`.
 * Whether one answers is asked with a plain TCP connect, so a machine without a broker prints no
 * client errors before it gets one.
 */
export async function leaseBroker(env: NodeJS.ProcessEnv = process.env): Promise<BrokerLease> {
  const given = commaSeparated(env.KAFKA_BROKERS ?? '');
  if (given.length > 0) return { brokers: given, startedHere: false, release: () => undefined };
  const port = Number(env.FICUS_KAFKA_PORT || 9092);
  const brokers = [`127.0.0.1:${port}`];
  if (await acceptsConnections('127.0.0.1', port)) return { brokers, startedHere: false, release: () => undefined };
  runBrokerScript('start', env);
  let released = false;
  return {
    brokers,
    startedHere: true,
    release: () => {
      if (released) return;
      released = true;
      runBrokerScript('stop', env);
    },
  };
}

function runBrokerScript(command: 'start' | 'stop', env: NodeJS.ProcessEnv): void {
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', command], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0 && command === 'start') {
    throw new Error(
      'a Kafka broker is needed: `npm run kafka:start` failed (see above; it needs Java 17 and Maven), or ' +
        'set KAFKA_BROKERS',
    );
  }
}
