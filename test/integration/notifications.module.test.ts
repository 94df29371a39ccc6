import { randomUUID } from 'node:crypto';
import { NotificationsContract } from '@contracts/notifications';
import { OrderFailed } from '@contracts/ordering';
import { NotificationsModule } from '@modules/notifications';
import { eventually } from '../support/eventually';
import { confirmed, newCustomer, registered } from '../support/notification-events';
import { asAdminUser, asCustomer, startModule, type ModuleUnderTest } from '../support/module-harness';

describe('notifications, alone on its database', () => {
  let notifications: ModuleUnderTest;
  const api = () => notifications.client(NotificationsContract);

  beforeAll(async () => {
    // Retries in milliseconds: an order's email waits for its customer's address to arrive.
    notifications = await startModule('notifications', NotificationsModule, [], {
      consumerRetry: { maxAttempts: 20, initialDelayMs: 5, maxDelayMs: 50 },
    });
  });
  afterAll(() => notifications?.close());

  const mine = (customerId: string) => api().listNotifications(asCustomer(customerId), { recipientId: customerId });

  it("mails a confirmed order to its customer's address, once however often the event comes", async () => {
    const customer = newCustomer();
    await notifications.events.publish([registered(customer)]);
    const orderId = randomUUID();
    await notifications.events.publish([confirmed(customer.customerId, orderId)]);
    await notifications.events.publish([confirmed(customer.customerId, orderId)]); // another message id

    const { items, total } = await mine(customer.customerId);
    expect(total).toBe(1);
    expect(items[0]).toMatchObject({
      orderId,
      to: customer.email,
      channel: 'email',
      subject: expect.stringMatching(/confirmed/),
    });
  });

  it('waits for the address when the order arrives before the customer does', async () => {
    const customer = newCustomer();
    const orderId = randomUUID();
    const delivered = notifications.events.publish([confirmed(customer.customerId, orderId)]);
    await notifications.events.publish([registered(customer)]);
    await delivered;
    const { items } = await eventually(() => mine(customer.customerId), { until: (found) => found.total === 1 });
    expect(items[0]).toMatchObject({ orderId, to: customer.email });
  });

  it('tells the customer when an order could not be placed', async () => {
    const customer = newCustomer();
    await notifications.events.publish([registered(customer)]);
    const orderId = randomUUID();
    await notifications.events.publish([
      OrderFailed.create(
        { orderId, customerId: customer.customerId, reason: 'payment-failed' },
        { correlationId: orderId },
      ),
    ]);
    expect((await mine(customer.customerId)).items).toEqual([
      expect.objectContaining({ orderId, subject: expect.stringMatching(/could not be placed/) }),
    ]);
  });

  it("shows a customer their own notifications only; an admin anyone's, or everyone's", async () => {
    const [ada, bob] = [newCustomer(), newCustomer()];
    await notifications.events.publish([registered(ada), registered(bob)]);
    await notifications.events.publish([confirmed(ada.customerId), confirmed(bob.customerId)]);

    await expect(
      api().listNotifications(asCustomer(bob.customerId), { recipientId: ada.customerId }),
    ).rejects.toMatchObject({ kind: 'permission-denied', code: 'not-this-recipient' });
    await expect(api().listNotifications(asCustomer(bob.customerId), {})).rejects.toMatchObject({
      kind: 'permission-denied',
    });
    expect((await api().listNotifications(asAdminUser(), { recipientId: ada.customerId })).total).toBe(1);
    const everyone = await api().listNotifications(asAdminUser(), { pageSize: 100 });
    expect(everyone.items.map((item) => item.recipientId)).toEqual(
      expect.arrayContaining([ada.customerId, bob.customerId]),
    );
  });

  it('shows the development mailbox to the edge alone', async () => {
    const customer = newCustomer();
    await notifications.events.publish([registered(customer)]);
    await notifications.events.publish([confirmed(customer.customerId)]);
    const mailbox = await notifications
      .client(NotificationsContract, 'edge')
      .mailbox(asAdminUser(), { to: customer.email });
    expect(mailbox.items).toEqual([
      expect.objectContaining({ kind: 'order-confirmed', subject: expect.stringMatching(/confirmed/) }),
    ]);
    await expect(
      notifications.client(NotificationsContract, 'ordering').mailbox(asAdminUser(), { to: customer.email }),
    ).rejects.toMatchObject({ kind: 'permission-denied' });
  });
});
