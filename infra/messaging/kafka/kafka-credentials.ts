import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { defineSettings, flag, unsetWhenEmpty } from '@infra/config';

/** What every Kafka client of the process adds to its config: TLS and SASL, when configured. */
export type KafkaCredentials = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/**
 * The broker credentials of this process, from its own environment (in Kubernetes, from its own
 * Secret, ADR 0027): each service authenticates as itself, so the broker's ACLs can allow it only
 * its own topics and groups. Unset: a plaintext, unauthenticated broker, as in development. A
 * problem is said with the variables' names, never their values.
 */
export const KafkaCredentialSettings = defineSettings(
  'kafka: credentials',
  {
    KAFKA_SSL: flag(false),
    KAFKA_SASL_MECHANISM: z.preprocess(
      unsetWhenEmpty,
      z
        .enum(['plain', 'scram-sha-256', 'scram-sha-512'], { error: 'must be plain, scram-sha-256 or scram-sha-512' })
        .optional(),
    ),
    KAFKA_SASL_USERNAME: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
    KAFKA_SASL_PASSWORD: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  },
  ({
    KAFKA_SSL: ssl,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  }): KafkaCredentials => {
    if (mechanism && !(username && password)) {
      throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    }
    if (!mechanism && (username || password)) {
      throw new Error(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)',
      );
    }
    return {
      ...(ssl ? { ssl: true } : {}),
      ...(mechanism ? { sasl: { mechanism, username, password } as SASLOptions } : {}),
    };
  },
);

/** The credentials `env` gives, or a ConfigurationError naming what is wrong. */
export function kafkaCredentialsOf(env: Readonly<Record<string, string | undefined>>): KafkaCredentials {
  return KafkaCredentialSettings.read(env);
}
