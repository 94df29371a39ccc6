import { z } from 'zod';
import {
  defineSettings,
  NODE_ENV,
  optionalHttpUrl,
  optionalText,
  SettingProblems,
  unsetWhenEmpty,
} from '@infra/config';

export interface MailOptions {
  /** The shop's public address, which links in mails point at. */
  readonly publicUrl: string;
  /** The SMTP server emails leave through; undefined: to the log only (development). */
  readonly smtpUrl?: string;
  /** Who emails come from. */
  readonly from: string;
}

const DEVELOPMENT_PUBLIC_URL = 'http://localhost:3000';

/** An address for From: `shop@example.com` or `Shop <shop@example.com>`, on one line. */
const MAIL_FROM = /^(?:[^\r\n<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

/**
 * Notifications' own: where the links it mails lead (FICUS_PUBLIC_URL) and how emails leave
 * (FICUS_SMTP_URL, FICUS_MAIL_FROM). In production both FICUS_PUBLIC_URL and FICUS_SMTP_URL are
 * required: without them a customer's confirmation link would lead to localhost, or go nowhere,
 * and nobody could sign in. Outside production they default to http://localhost:3000 and the log
 * (the development mailbox shows every email).
 */
export const MailSettings = defineSettings(
  'notifications: mail',
  {
    FICUS_PUBLIC_URL: optionalHttpUrl(),
    FICUS_SMTP_URL: z.preprocess(
      unsetWhenEmpty,
      z
        .string()
        .trim()
        .refine((url) => URL.canParse(url) && /^smtps?:$/.test(new URL(url).protocol), {
          // Never the value: it may hold the server's password.
          error: 'must be an smtp:// or smtps:// URL (smtp://user:password@host:587)',
        })
        .optional(),
    ),
    FICUS_MAIL_FROM: optionalText().refine((from) => from === undefined || MAIL_FROM.test(from), {
      error: 'must be an address, as shop@example.com or "Shop <shop@example.com>"',
    }),
    NODE_ENV,
  },
  (values): MailOptions => {
    if (values.NODE_ENV === 'production') {
      const problems = [];
      if (!values.FICUS_PUBLIC_URL) {
        problems.push({
          variable: 'FICUS_PUBLIC_URL',
          message: "is required with NODE_ENV=production: the shop's public address, which links in emails lead to",
        });
      }
      if (!values.FICUS_SMTP_URL) {
        problems.push({
          variable: 'FICUS_SMTP_URL',
          message:
            'is required with NODE_ENV=production: the SMTP server emails leave through ' +
            '(smtp://user:password@host:587)',
        });
      }
      if (problems.length > 0) throw new SettingProblems(problems);
    }
    const publicUrl = values.FICUS_PUBLIC_URL ?? DEVELOPMENT_PUBLIC_URL;
    return {
      publicUrl,
      smtpUrl: values.FICUS_SMTP_URL,
      from: values.FICUS_MAIL_FROM ?? `ficus shop <no-reply@${new URL(publicUrl).hostname}>`,
    };
  },
);
