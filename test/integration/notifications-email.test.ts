import { randomUUID } from 'node:crypto';
import { NotificationsContract } from '@contracts/notifications';
import { NotificationsModule } from '@modules/notifications';
import { EmailDispatcher } from '../../modules/notifications/src/application/email-delivery/email-dispatcher';
import { EMAIL_SENDER, type EmailSender } from '../../modules/notifications/src/domain/order-email';
import { EmailDeliveries } from '../../modules/notifications/src/persistence/email-deliveries.repository';
import { eventually } from '../support/eventually';
import { confirmed, newCustomer, registered } from '../support/notification-events';
import { startMailServer, type MailServer } from '../support/mail-server';
import { asAdminUser, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('notifications mails through an SMTP server, after its transaction commits', () => {
  let mail: MailServer;
  let notifications: ModuleUnderTest;

  beforeAll(async () => {
    mail = await startMailServer();
    notifications = await startModule('notifications_email', NotificationsModule, [], {
      consumerRetry: { maxAttempts: 5, initialDelayMs: 5, maxDelayMs: 20 },
      env: { FICUS_SMTP_URL: mail.url, FICUS_MAIL_FROM: 'Ficus <shop@ficus.example>' },
    });
  });
  afterAll(async () => {
    await notifications?.close();
    await mail?.close();
  });

  const sql = <T>(text: string, params: unknown[] = []) => asAdmin<T>(notifications.database, text, params);
  const mailsTo = (address: string) => mail.received.filter((m) => m.to.includes(address));
  /** A notification and its delivery, as a process that committed them and died before sending leaves them. */
  const leftUnsent = async (address: string) => {
    const id = randomUUID();
    await sql(
      `INSERT INTO notifications.notifications (id, recipient_id, channel, address, subject, body, kind)
       VALUES ($1, $2, 'email', $3, 'Left unsent', 'A process died before it sent this.', 'test')`,
      [id, randomUUID(), address],
    );
    await sql('INSERT INTO notifications.email_deliveries (notification_id) VALUES ($1)', [id]);
    return id;
  };
  const delivery = async (id: string) =>
    (
      await sql<{ attempts: number; last_error: string | null; given_up: boolean; later: boolean }>(
        `SELECT attempts, last_error, given_up_at IS NOT NULL AS given_up, due_at > now() AS later
           FROM notifications.email_deliveries WHERE notification_id = $1`,
        [id],
      )
    )[0];

  it("sends a confirmed order's email once, named by its notification, and keeps no delivery left to do", async () => {
    const customer = newCustomer();
    await notifications.events.publish([registered(customer)]);
    const orderId = randomUUID();
    await notifications.events.publish([confirmed(customer.customerId, orderId)]);
    await notifications.events.publish([confirmed(customer.customerId, orderId)]); // another message id

    const [sent] = await eventually(() => mailsTo(customer.email), { until: (found) => found.length === 1 });
    const { items } = await notifications
      .client(NotificationsContract)
      .listNotifications(asAdminUser(), { recipientId: customer.customerId });
    expect(sent).toMatchObject({
      from: 'shop@ficus.example',
      subject: items[0].subject,
      messageId: `<${items[0].id}@ficus.example>`,
      text: expect.stringContaining(orderId),
    });
    await eventually(() => delivery(items[0].id), { until: (row) => row === undefined, what: 'the delivery row gone' });
    expect(mailsTo(customer.email)).toHaveLength(1);
  });

  it('sends nothing from a transaction whose COMMIT fails, and once when the event is handled again', async () => {
    // A COMMIT that fails after the handler ran, once: a deferred trigger, counted by a sequence
    // (which a rollback does not undo). An email sent inside the transaction would go out twice.
    await sql('CREATE SEQUENCE notifications.commits_tried');
    await sql(`
      CREATE FUNCTION notifications.first_commit_fails() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF (SELECT address FROM notifications.notifications WHERE id = NEW.notification_id) LIKE 'commit-fails-%'
           AND nextval('notifications.commits_tried') = 1 THEN
          RAISE EXCEPTION 'this COMMIT fails (test)';
        END IF;
        RETURN NULL;
      END $$`);
    await sql(`
      CREATE CONSTRAINT TRIGGER first_commit_fails AFTER INSERT ON notifications.email_deliveries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION notifications.first_commit_fails()`);
    const customer = newCustomer('commit-fails');
    await notifications.events.publish([registered(customer)]);
    await notifications.events.publish([confirmed(customer.customerId)]);

    await eventually(() => mailsTo(customer.email), { until: (found) => found.length > 0 });
    const [{ tried }] = await sql<{ tried: string }>('SELECT last_value AS tried FROM notifications.commits_tried');
    expect(Number(tried)).toBe(2); // the first COMMIT failed, the second held
    // Whatever else goes out meanwhile (a sweep), this customer's email is not sent again.
    await notifications.app.get(EmailDispatcher).drain();
    expect(mailsTo(customer.email)).toHaveLength(1);
  });

  it('sends what a process committed and did not get to send: the sweep finds it', async () => {
    const address = `left-${randomUUID().slice(0, 8)}@example.com`;
    const id = await leftUnsent(address);
    const [sent] = await eventually(() => mailsTo(address), {
      until: (found) => found.length === 1,
      what: 'the sweep to send it (every 5 s)',
    });
    expect(sent.messageId).toBe(`<${id}@ficus.example>`);
  });

  it('gives up an email the server refuses for good, and tries again later one it refuses for now', async () => {
    const never = `never-${randomUUID().slice(0, 8)}@example.com`;
    const later = `later-${randomUUID().slice(0, 8)}@example.com`;
    mail.refuse(never, 550);
    mail.refuse(later, 451);
    const refused = await leftUnsent(never);
    const deferred = await leftUnsent(later);
    await notifications.app.get(EmailDispatcher).drain();

    expect(await delivery(refused)).toMatchObject({
      attempts: 1,
      given_up: true,
      last_error: expect.stringMatching(/550/),
    });
    expect(await delivery(deferred)).toMatchObject({ attempts: 1, given_up: false, later: true });
    expect((await delivery(deferred)).last_error).toMatch(/451/);
    // The server's reply echoes the address; what is kept (and logged) does not.
    expect((await delivery(refused)).last_error).not.toContain(never);
    expect((await delivery(deferred)).last_error).not.toContain(later);
    expect([...mailsTo(never), ...mailsTo(later)]).toEqual([]);
  });

  it("keeps trying while the server refuses the sender (the shop's configuration), and sends once it is mended", async () => {
    const address = `configured-${randomUUID().slice(0, 8)}@example.com`;
    mail.refuseSenders(550); // a From the provider does not allow: every email would meet it
    try {
      const id = await leftUnsent(address);
      await notifications.app.get(EmailDispatcher).drain();
      expect(await delivery(id)).toMatchObject({ attempts: 1, given_up: false, later: true });
      expect((await delivery(id)).last_error).toMatch(/550/);

      mail.refuseSenders(undefined); // mended
      await sql('UPDATE notifications.email_deliveries SET due_at = now() WHERE notification_id = $1', [id]);
      await notifications.app.get(EmailDispatcher).drain();
      expect(mailsTo(address).map((m) => m.messageId)).toEqual([`<${id}@ficus.example>`]);
      expect(await delivery(id)).toBeUndefined();
    } finally {
      mail.refuseSenders(undefined);
    }
  });

  it('sends each email once when two senders (two replicas) drain at the same time', async () => {
    const address = `twice-${randomUUID().slice(0, 8)}@example.com`;
    const ids = await Promise.all(Array.from({ length: 25 }, () => leftUnsent(address)));
    const replica = new EmailDispatcher(
      notifications.registry.get('notifications')!.uow,
      notifications.app.get(EmailDeliveries),
      notifications.app.get<EmailSender>(EMAIL_SENDER),
    );
    await Promise.all([notifications.app.get(EmailDispatcher).drain(), replica.drain()]);

    const sent = mailsTo(address).map((m) => m.messageId);
    expect(sent.sort()).toEqual(ids.map((id) => `<${id}@ficus.example>`).sort());
  });
});
