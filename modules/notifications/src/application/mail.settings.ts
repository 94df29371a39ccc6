import { defineSettings, httpUrl } from '@infra/config';

export interface MailOptions {
  /** The shop's public address, which links in mails point at. */
  readonly publicUrl: string;
}

/** Notifications' own: where the links it mails lead (FICUS_PUBLIC_URL, http://localhost:3000 by default). */
export const MailSettings = defineSettings(
  'notifications: mail',
  { FICUS_PUBLIC_URL: httpUrl('http://localhost:3000') },
  (values): MailOptions => ({ publicUrl: values.FICUS_PUBLIC_URL }),
);
