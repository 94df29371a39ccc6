import { kafkaCredentialsOf } from '@infra/messaging/kafka';

/** Each service's broker credentials come from its own environment (its own Secret in Kubernetes). */
describe('Kafka credentials of a process', () => {
  it('are none for a development broker', () => {
    expect(kafkaCredentialsOf({})).toEqual({});
  });

  it('are TLS and SASL/SCRAM when configured', () => {
    expect(
      kafkaCredentialsOf({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'ficus-ordering',
        KAFKA_SASL_PASSWORD: 's3cret-ordering',
      }),
    ).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'ficus-ordering', password: 's3cret-ordering' },
    });
  });

  it('refuse half a configuration, naming the variables and never the secret', () => {
    const half = () => kafkaCredentialsOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'ficus-payments' });
    expect(half).toThrow(/KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    const orphan = () => kafkaCredentialsOf({ KAFKA_SASL_PASSWORD: 'never-print-me' });
    expect(orphan).toThrow(/need KAFKA_SASL_MECHANISM/);
    expect(orphan).not.toThrow(/never-print-me/);
    expect(() =>
      kafkaCredentialsOf({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: 'b' }),
    ).toThrow(/KAFKA_SASL_MECHANISM: must be plain, scram-sha-256 or scram-sha-512 \(kafka: credentials\)/);
  });
});
