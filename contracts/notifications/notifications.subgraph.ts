import { NotificationsSubgraphServiceDefinition } from '../generated/notifications/notifications';
import { defineSubgraph, FEDERATION_LINK, pageType, type SubgraphSdl } from '../kernel/subgraph';

/** Notifications' subgraph: what the shop sent a customer, on identity's `Customer`. */
export const NotificationsSubgraph: SubgraphSdl = defineSubgraph(
  'notifications',
  `${FEDERATION_LINK}

type Customer @key(fields: "id") {
  id: ID!
  """What the shop sent the customer, newest first (pageSize 1 to 100)."""
  notifications(page: Int! = 1, pageSize: Int! = 20): NotificationPage!
}

"""A message the shop sent (an email today)."""
type Notification {
  id: ID!
  """How it was sent: email."""
  channel: String!
  """Where it was sent (the customer's email address)."""
  to: String!
  subject: String!
  body: String!
  """The order it is about, when it is about one."""
  orderId: ID
  sentAt: String!
}

${pageType('NotificationPage', 'Notification')}
`,
  NotificationsSubgraphServiceDefinition,
);
