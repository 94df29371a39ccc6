import { randomUUID } from 'node:crypto';
import { CustomerRegistered } from '@contracts/identity';
import { NotificationsContract } from '@contracts/notifications';
import { OrderConfirmed } from '@contracts/ordering';
import { Flags, formatFlagState, holdsFor, parseFlagState, percentState } from '@infra/flags';
import { withDatabase } from '@infra/persistence';
import { NotificationsModule } from '@modules/notifications';
import { eventually } from '../support/eventually';
import { asCustomer, startModule, type ModuleUnderTest } from '../support/module-harness';
import { ficus } from './flags-cli';

/** The shop's release toggle: notifications reads it per customer, through Flags alone. */
describe('notifications.new-confirmation-email, switched at run time', () => {
  const FLAG = 'notifications.new-confirmation-email';
  let notifications: ModuleUnderTest;
  let flags: Flags;
  const cli = (...argv: string[]) =>
    ficus([...argv, '--database-url', withDatabase(notifications.database.adminUrl, notifications.database.database)], {
      ...process.env,
      FICUS_DB_ROLE_SECRET: notifications.database.roleSecret,
    });

  beforeAll(async () => {
    notifications = await startModule('notifications_flags', NotificationsModule);
    flags = notifications.app.get(Flags);
  });
  afterAll(() => notifications?.close());

  const customer = async (customerId = randomUUID()) => {
    await notifications.events.publish([
      CustomerRegistered.create(
        { customerId, email: `${customerId.slice(0, 8)}@example.com` },
        { correlationId: customerId },
      ),
    ]);
    return customerId;
  };
  /** The subject of the confirmation a customer gets for a new order. */
  const confirmationSubject = async (customerId: string) => {
    const orderId = randomUUID();
    await notifications.events.publish([
      OrderConfirmed.create(
        { orderId, customerId, total: { amountMinor: 2_990, currency: 'EUR' } },
        { correlationId: orderId },
      ),
    ]);
    const { items } = await notifications
      .client(NotificationsContract)
      .listNotifications(asCustomer(customerId), { recipientId: customerId, pageSize: 100 });
    return items.find((item) => item.orderId === orderId)!.subject;
  };
  const setFlag = async (state: string) => {
    expect((await cli('flags', 'set', FLAG, state)).code).toBe(0);
    await eventually(() => formatFlagState(flags.state(FLAG)), {
      until: (now) => now === formatFlagState(parseFlagState(state)),
    });
  };

  it('is declared by the module, off by default: the classic email', async () => {
    const listed = JSON.parse((await cli('flags', 'list', '--json')).out) as Array<{
      name: string;
      state: string;
      declared: boolean;
    }>;
    expect(listed).toContainEqual(
      expect.objectContaining({ name: FLAG, state: 'off', default: 'off', declared: true }),
    );
    const customerId = await customer();
    expect(await confirmationSubject(customerId)).toMatch(/^Your order [0-9a-f]{8} is confirmed$/);
  });

  it('sends the new email once switched on, without a restart, and the classic one again once off', async () => {
    const customerId = await customer();
    await setFlag('on');
    expect(await confirmationSubject(customerId)).toMatch(
      /^Order [0-9a-f]{8} confirmed: your plants are being packed$/,
    );
    await setFlag('off');
    expect(await confirmationSubject(customerId)).toMatch(/is confirmed$/);
  });

  it('at a percentage, gives each customer the wording of their bucket, every time', async () => {
    await setFlag('50');
    // Four customers on each side of the line, chosen by their bucket.
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const inside = ids.filter((id) => holdsFor(percentState(50), FLAG, id)).slice(0, 4);
    const outside = ids.filter((id) => !holdsFor(percentState(50), FLAG, id)).slice(0, 4);
    const customers = await Promise.all([...inside, ...outside].map((id) => customer(id)));
    expect(customers).toHaveLength(8);
    for (const customerId of customers) {
      const expectNew = inside.includes(customerId);
      const pattern = expectNew ? /your plants are being packed$/ : /is confirmed$/;
      expect(await confirmationSubject(customerId)).toMatch(pattern);
      expect(await confirmationSubject(customerId)).toMatch(pattern);
    }
  });
});
