import { consumerGroupOf, deadLetterTopicOf, eventTopicOf } from '@infra/messaging/kafka/kafka-topics';
import type { Topology } from '@infra/topology';
import { whose, type ExtractionPlan } from './extraction-plan';

/**
 * What an extraction needs created outside ficus's own files: nothing while it runs (the new
 * target works on its owner's database and publishes no events; the owner keeps the outbox), and
 * what `ficus retire` will need when the context leaves its owner for good.
 */
export interface ExtractionResources {
  readonly now: {
    readonly databases: readonly string[];
    readonly topics: readonly string[];
    readonly consumerGroups: readonly string[];
    readonly why: string;
  };
  readonly atRetire: {
    readonly databases: readonly { readonly name: string; readonly note: string }[];
    readonly topics: readonly { readonly name: string; readonly partitions: number; readonly note: string }[];
    readonly consumerGroups: readonly { readonly group: string; readonly reads: readonly string[] }[];
    readonly notes: readonly string[];
  };
}

/** Who consumes whose integration events, as the consumer-driven contracts (pacts/) record it. */
export interface EventLink {
  readonly consumer: string;
  readonly provider: string;
  readonly events: readonly string[];
}

export interface ResourceNaming {
  /** FICUS_KAFKA_NAMESPACE, `ficus` by default. */
  readonly kafkaNamespace: string;
  /** FICUS_DATABASE_PREFIX, or the prefix of the topology's own database names. */
  readonly databasePrefix: string;
  readonly eventLinks: readonly EventLink[];
}

/** `topology` is the new one, with the extraction written in. */
export function extractionResources(
  topology: Topology,
  plan: ExtractionPlan,
  naming: ResourceNaming,
): ExtractionResources {
  const { kafkaNamespace: namespace, databasePrefix, eventLinks } = naming;
  const { context, owner } = plan;
  const ownerTarget = topology.target(owner);
  const inOwner = (module: string) => ownerTarget.modules.includes(module) && module !== context;
  // The owner's events travel over Kafka only once a second owner exists: at retire, for a monolith.
  const ownerHasKafka = topology.targets.filter((target) => !target.extractedFrom).length > 1;

  const readersOfContext = unique(
    eventLinks.filter((link) => link.provider === context && inOwner(link.consumer)).map((link) => link.consumer),
  );
  const readByContext = unique(
    eventLinks.filter((link) => link.consumer === context && link.provider !== context).map((link) => link.provider),
  );
  const ownerTopicsNowRemote = ownerHasKafka ? [] : readByContext.filter(inOwner);

  const ownDatabase = `${databasePrefix}_${plan.target.replace(/-/g, '_')}`;
  return {
    now: {
      databases: [],
      topics: [],
      consumerGroups: [],
      why:
        `${plan.target} works on ${whose(owner)} database (${databaseText(topology, owner)}) and publishes ` +
        `no events: ${owner} keeps ${whose(context)} outbox until \`ficus retire ${context}\``,
    },
    atRetire: {
      databases: [
        {
          name: ownDatabase,
          note:
            `none at retire, which keeps ${context} on ${whose(owner)} database ` +
            `(${databaseText(topology, owner)}; ADR 0034); ${ownDatabase} is ${whose(context)} own, as ` +
            `split.yaml names them, for the later move of its data`,
        },
      ],
      topics: [
        {
          name: eventTopicOf(context, namespace),
          partitions: topology.partitionsOf(context),
          note: `${whose(context)} integration events, published by ${plan.target}`,
        },
        {
          name: deadLetterTopicOf(context, namespace),
          partitions: 1,
          note: `what ${context} cannot process of the events it consumes`,
        },
        ...ownerTopicsNowRemote.map((provider) => ({
          name: eventTopicOf(provider, namespace),
          partitions: topology.partitionsOf(provider),
          note: `${whose(provider)} events, which ${context} consumes and ${owner} publishes in-process until then`,
        })),
        ...(ownerHasKafka ? [] : readersOfContext).map((consumer) => ({
          name: deadLetterTopicOf(consumer, namespace),
          partitions: 1,
          note: `${whose(consumer)} dead letters, once it consumes ${whose(context)} events over Kafka`,
        })),
      ],
      consumerGroups: [
        ...(readByContext.length > 0
          ? [
              {
                group: consumerGroupOf(context, namespace),
                reads: readByContext.map((provider) => eventTopicOf(provider, namespace)),
              },
            ]
          : []),
        ...readersOfContext.map((consumer) => ({
          group: consumerGroupOf(consumer, namespace),
          reads: [eventTopicOf(context, namespace)],
        })),
      ],
      notes: [
        'every process of a multi-process topology creates the topics it misses at start ' +
          '(FICUS_KAFKA_REPLICATION_FACTOR replicas); create them beforehand where the broker does not allow that',
        ...(ownerHasKafka
          ? []
          : [`${owner} then runs beside a second owner: the topology needs defaults.kafka.brokers (KAFKA_BROKERS)`]),
      ],
    },
  };
}

function databaseText(topology: Topology, target: string): string {
  const database = topology.target(target).database;
  switch (database.kind) {
    case 'name':
      return `database ${database.name} on the server of DATABASE_URL`;
    case 'url':
      return 'its database.url';
    case 'shared':
      return 'the database of DATABASE_URL, one schema per context';
    default:
      return 'none';
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * The event links recorded by message pacts: `ficus-<consumer>` reading events `<provider>.<name>.v<n>`
 * of `ficus-<provider>`. gRPC interactions (`<context>.v1.Service/method`) and non-ficus parties
 * are left out.
 */
export function eventLinksOfPacts(pacts: readonly unknown[]): EventLink[] {
  const links: EventLink[] = [];
  for (const pact of pacts) {
    const { consumer, provider, interactions, messages } = pact as {
      consumer?: { name?: string };
      provider?: { name?: string };
      interactions?: { description?: string }[];
      messages?: { description?: string }[];
    };
    const consumerName = /^ficus-([a-z][a-z0-9-]*)$/.exec(consumer?.name ?? '')?.[1];
    const providerName = /^ficus-([a-z][a-z0-9-]*)$/.exec(provider?.name ?? '')?.[1];
    if (!consumerName || !providerName) continue;
    const events = [...(interactions ?? []), ...(messages ?? [])]
      .map((interaction) => interaction.description ?? '')
      .filter((description) => new RegExp(`^${providerName}\\.[a-z0-9-]+\\.v\\d+$`).test(description));
    if (events.length > 0) links.push({ consumer: consumerName, provider: providerName, events });
  }
  return links;
}
