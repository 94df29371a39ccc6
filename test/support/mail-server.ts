import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** An email as the server took it. */
export interface ReceivedMail {
  readonly to: string[];
  /** The sender's address. */
  readonly from: string;
  readonly subject: string;
  readonly messageId: string;
  readonly text: string;
}

export interface MailServer {
  /** FICUS_SMTP_URL for it. */
  readonly url: string;
  readonly received: ReceivedMail[];
  /** Answers `code` (a 4xx: try later; a 5xx: never) to every RCPT TO of `address`. */
  refuse(address: string, code: number): void;
  /** Answers `code` to every MAIL FROM (a provider refusing the sender), or takes them again (undefined). */
  refuseSenders(code: number | undefined): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free loopback port (nodemailer's smtp-server): what notifications sends
 * crosses a socket and an SMTP dialogue, and arrives parsed. The edge of the world, as a mail
 * provider is; no TLS, no login (the URL carries none).
 */
export async function startMailServer(): Promise<MailServer> {
  const received: ReceivedMail[] = [];
  const refusals = new Map<string, number>();
  let senderRefusal: number | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onMailFrom(address, _session, callback) {
      if (senderRefusal === undefined) return callback();
      return callback(
        Object.assign(new Error(`${address.address} may not send (${senderRefusal})`), { responseCode: senderRefusal }),
      );
    },
    onRcptTo(address, _session, callback) {
      const code = refusals.get(address.address.toLowerCase());
      if (code === undefined) return callback();
      return callback(Object.assign(new Error(`${address.address} refused (${code})`), { responseCode: code }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const to = [mail.to].flat().flatMap((entry) => entry?.value.map((a) => a.address ?? '') ?? []);
          received.push({
            to,
            from: mail.from?.value[0]?.address ?? '',
            subject: mail.subject ?? '',
            messageId: mail.messageId ?? '',
            text: mail.text ?? '',
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuse: (address, code) => refusals.set(address.toLowerCase(), code),
    refuseSenders: (code) => (senderRefusal = code),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
