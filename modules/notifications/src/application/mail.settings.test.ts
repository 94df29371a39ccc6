import { ConfigurationError } from '@infra/config';
import { MailSettings } from './mail.settings';

describe('mail settings', () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      MailSettings.read(env);
    } catch (error) {
      if (error instanceof ConfigurationError) return error.issues.map((issue) => issue.variable);
      throw error;
    }
    return [];
  };

  it('outside production, emails go to the log and links to localhost', () => {
    expect(MailSettings.read({})).toEqual({
      publicUrl: 'http://localhost:3000',
      smtpUrl: undefined,
      from: 'ficus shop <no-reply@localhost>',
    });
  });

  it('in production, a shop without its public address or an SMTP server does not start: nobody could sign in', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['FICUS_PUBLIC_URL', 'FICUS_SMTP_URL']);
    expect(problemsOf({ NODE_ENV: ' Production ', FICUS_PUBLIC_URL: 'https://shop.example.com' })).toEqual([
      'FICUS_SMTP_URL',
    ]);
    expect(
      MailSettings.read({
        NODE_ENV: 'production',
        FICUS_PUBLIC_URL: 'https://shop.example.com/',
        FICUS_SMTP_URL: 'smtps://mailer:secret@mail.example.com:465',
      }),
    ).toEqual({
      publicUrl: 'https://shop.example.com',
      smtpUrl: 'smtps://mailer:secret@mail.example.com:465',
      from: 'ficus shop <no-reply@shop.example.com>',
    });
  });

  it('takes an SMTP URL only, and a From of one line', () => {
    for (const url of ['http://mail.example.com', 'mail.example.com:25', 'smtp//mail.example.com']) {
      expect(problemsOf({ FICUS_SMTP_URL: url })).toEqual(['FICUS_SMTP_URL']);
    }
    expect(problemsOf({ FICUS_MAIL_FROM: 'shop@example.com\r\nBcc: everyone@example.com' })).toEqual([
      'FICUS_MAIL_FROM',
    ]);
    expect(problemsOf({ FICUS_MAIL_FROM: 'not an address' })).toEqual(['FICUS_MAIL_FROM']);
    expect(MailSettings.read({ FICUS_MAIL_FROM: 'Shop <shop@example.com>' }).from).toBe('Shop <shop@example.com>');
  });
});
