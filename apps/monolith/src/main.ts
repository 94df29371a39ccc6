import 'reflect-metadata';
import { runProcess } from '@apps/service';
import { shippedTopologyPath } from '@infra/topology';

/**
 * `npm start`: the whole shop in one process, which is the shipped monolith.yaml run as any
 * target of any topology is. Without DATABASE_URL it starts the embedded PostgreSQL under .data/
 * first; the first start migrates every context and seeds demo data. PORT (or FICUS_HTTP_PORT)
 * and FICUS_OPERATIONS_PORT move its two ports.
 */
runProcess({
  topology: shippedTopologyPath('monolith'),
  target: 'monolith',
  announce: (running) =>
    `ficus monolith listening on ${running.url} (try GET /catalog/products); /ready and /metrics on ` +
    `${running.operationsUrl}; console: npx ficus console (then http://127.0.0.1:3999, as a shop admin)`,
});
