import { pino } from 'pino';
import { ConfigurationError } from '@infra/config';
import { exitOnSignalUntilStarted } from '@infra/host';
import { LoggingSettings, startTracing } from '@infra/observability';
import { runTarget, type RunningTarget, type RunTargetOptions } from './run-target';

/**
 * One deploy target as this process's whole life: tracing under `ficus-<target>`, the target run,
 * one line saying where it answers, and a clean stop on SIGINT or SIGTERM (exit 1 if it cannot
 * start). `npm start`, the services and the gateway are each this, with a different topology.
 */
export function runProcess(
  options: Omit<RunTargetOptions, 'log'> & {
    readonly target: string;
    readonly announce: (running: RunningTarget) => string;
  },
): void {
  // Its own lines at the configured level; a bad LOG_LEVEL is reported with the rest by runTarget.
  const logging = LoggingSettings.parse(process.env);
  const log = pino({ level: 'value' in logging ? logging.value.level : 'info' });
  const cannotStart = (error: unknown): never => {
    if (error instanceof ConfigurationError) {
      // For whoever set the environment, in plain lines; and as a log line for collectors.
      process.stderr.write(`ficus ${options.target} cannot start: ${error.message}\n`);
      log.fatal({ problems: error.issues }, `ficus ${options.target} cannot start: invalid configuration`);
    } else log.fatal({ err: error }, `ficus ${options.target} failed to start`);
    process.exit(1);
  };
  let tracing: ReturnType<typeof startTracing>;
  try {
    tracing = startTracing(`ficus-${options.target}`);
  } catch (error) {
    return cannotStart(error); // OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER(_ARG)
  }
  const startedUp = exitOnSignalUntilStarted();
  runTarget({ ...options, log }).then((running) => {
    log.info(options.announce(running));
    let stopping = false;
    const stop = () => {
      if (stopping) return; // SIGINT then SIGTERM: one stop
      stopping = true;
      void running
        .close()
        .then(() => tracing?.shutdown()) // exports the spans still buffered
        .then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, `ficus ${options.target} did not stop cleanly`);
            process.exit(1);
          },
        );
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
    startedUp();
  }, cannotStart);
}
