import { ScrapedGauge } from './scraped-gauge';

/**
 * State of each bounded context running in this process, read at scrape time. A context's
 * runtime observes these when it starts and forgets them when it stops (infra/runtime).
 */

export const outboxBacklogGauge = new ScrapedGauge({
  name: 'ficus_outbox_backlog',
  help: 'Outbox rows not yet published, per context (ordering: its event store)',
  labelNames: ['context'],
});

export const outboxOldestAgeGauge = new ScrapedGauge({
  name: 'ficus_outbox_oldest_age_seconds',
  help: 'Age of the oldest unpublished outbox row, per context; 0 when the outbox is empty',
  labelNames: ['context'],
});

export const deadLettersGauge = new ScrapedGauge({
  name: 'ficus_dead_letters',
  help: 'Dead letters not yet replayed, per context',
  labelNames: ['context'],
});

export const dbPoolConnectionsGauge = new ScrapedGauge({
  name: 'ficus_db_pool_connections',
  help: "Connections of a context's database pool: total (open), idle, waiting (callers queued for one)",
  labelNames: ['context', 'state'],
});
