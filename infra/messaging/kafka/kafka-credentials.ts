import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';

const Flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('')
  .transform((value) => value === 'true' || value === '1');
const Blank = (value: unknown) => (value === '' ? undefined : value);

/**
 * The broker credentials of this process, from its own environment (in Kubernetes, from its own
 * Secret, ADR 0027): each service authenticates as itself, so the broker's ACLs can allow it only
 * its own topics and groups. Unset: a plaintext, unauthenticated broker, as in development.
 */
const KafkaCredentialsEnv = z
  .object({
    KAFKA_SSL: Flag,
    KAFKA_SASL_MECHANISM: z.preprocess(Blank, z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional()),
    KAFKA_SASL_USERNAME: z.preprocess(Blank, z.string().min(1).optional()),
    KAFKA_SASL_PASSWORD: z.preprocess(Blank, z.string().min(1).optional()),
  })
  .refine((env) => !env.KAFKA_SASL_MECHANISM || (env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD), {
    error: 'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
  })
  .refine((env) => env.KAFKA_SASL_MECHANISM || (!env.KAFKA_SASL_USERNAME && !env.KAFKA_SASL_PASSWORD), {
    error:
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)',
  });

/** What every Kafka client of the process adds to its config: TLS and SASL, when configured. */
export type KafkaCredentials = Pick<KafkaConfig, 'ssl' | 'sasl'>;

export function kafkaCredentialsOf(env: Readonly<Record<string, string | undefined>>): KafkaCredentials {
  const result = KafkaCredentialsEnv.safeParse(env);
  if (!result.success) {
    // The message names the variables, never their values.
    throw new Error(`invalid Kafka credentials: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  const {
    KAFKA_SSL: ssl,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  } = result.data;
  return {
    ...(ssl ? { ssl: true } : {}),
    ...(mechanism ? { sasl: { mechanism, username, password } as SASLOptions } : {}),
  };
}
