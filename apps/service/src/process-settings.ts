import {
  HttpSettings,
  RateLimitSettings,
  RequestSettings,
  StreamSettings,
  VerifierClaimsSettings,
} from '@apps/http-edge';
import { Configuration, type Settings } from '@infra/config';
import { InstanceSettingsGroup, withInstanceFlag } from '@infra/discovery';
import { ProcessSettings } from '@infra/host';
import { KafkaCredentialSettings } from '@infra/messaging/kafka';
import { LoggingSettings, TraceBufferSettings } from '@infra/observability';
import { settingsOf } from '@infra/runtime';
import type { DeployTarget } from '@infra/topology';
import { moduleOf } from './module-catalogue';

/**
 * Every group of settings a process of `target` reads: the host's (database, Kafka, instance,
 * logging), every HTTP listener's, the edge's rate limits when it is the edge, and what each of
 * its contexts declared in `forContext({ settings })`. docs/configuration.md lists the variables.
 */
export function settingsOfTarget(target: Pick<DeployTarget, 'modules' | 'edge'>): Settings<unknown>[] {
  return [
    ProcessSettings,
    InstanceSettingsGroup,
    KafkaCredentialSettings,
    LoggingSettings,
    TraceBufferSettings,
    RequestSettings,
    HttpSettings,
    VerifierClaimsSettings,
    ...(target.edge ? [RateLimitSettings, StreamSettings] : []),
    // Each module's class is loaded (moduleOf), so its forContext declaration is known.
    ...settingsOf(target.modules.filter((context) => moduleOf(context))),
  ];
}

/**
 * The configuration of a process of `target`, read once from `env` before anything starts: a
 * problem anywhere stops the start, every problem listed. `--instance` stands for FICUS_INSTANCE_ID.
 */
export function readConfiguration(
  target: Pick<DeployTarget, 'modules' | 'edge'>,
  env: Readonly<Record<string, string | undefined>>,
  instance?: string,
): Configuration {
  return Configuration.read(withInstanceFlag(env, instance), settingsOfTarget(target));
}
