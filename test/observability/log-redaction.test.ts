import { Writable } from 'node:stream';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { QueryFailedError } from 'typeorm';
import { loggerOptions, LoggingSettings } from '@infra/observability';

/** What the shop's logger writes for an error, through the serializers it is configured with. */
function written(log: (logger: Logger) => void): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const options = loggerOptions(LoggingSettings.read({})).pinoHttp as LoggerOptions;
  log(pino({ serializers: options.serializers, redact: options.redact }, sink));
  return lines.join('');
}

describe('log redaction', () => {
  it("a failed query is logged without its parameters, nor PostgreSQL's detail that repeats a value", () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "orders_pkey"'), {
      code: '23505',
      detail: 'Key (payment_token)=(tok_secret_4242) already exists.',
    });
    const failed = new QueryFailedError(
      'INSERT INTO payments.payments VALUES ($1, $2)',
      ['order-1', 'tok_secret_4242'],
      driverError,
    );
    const output = written((logger) => logger.error({ err: failed }, 'query failed'));
    expect(output).toContain('INSERT INTO payments.payments'); // the statement stays: it names no value
    expect(output).toContain('23505');
    expect(output).not.toContain('tok_secret_4242');
  });
});

describe('card tokens never reach a log line', () => {
  it.each(['paymentToken', 'payment_token', 'token'])(
    '%s is redacted at the top, in an object and in an object within one (an event payload in an envelope)',
    (field) => {
      const output = written((logger) =>
        logger.warn(
          {
            [field]: 'tok_top_4242',
            request: { [field]: 'tok_nested_4242' },
            envelope: { payload: { [field]: 'tok_deep_4242' } },
          },
          'a message',
        ),
      );
      expect(output).not.toMatch(/tok_\w+_4242/);
      expect(output.match(/\[redacted\]/g)).toHaveLength(3);
    },
  );
});
