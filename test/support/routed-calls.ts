import { parseExposition } from './metrics-scrape';

/** The calls to inventory a monolith routed, by version, from its metrics (its operations port). */
export async function routedInventoryCalls(operationsUrl: string): Promise<{ inProcess: number; extracted: number }> {
  const scrape = parseExposition(await (await fetch(`${operationsUrl}/metrics`)).text());
  const count = (version: string) =>
    scrape.find('ficus_routed_calls_total', { target: 'inventory', version }).reduce((sum, s) => sum + s.value, 0);
  return { inProcess: count('in-process'), extracted: count('extracted') };
}

/** The share of inventory calls (percent) the extracted copy took while `work` ran, from the owner's metrics. */
export async function extractedShareDuring(operationsUrl: string, work: () => Promise<void>): Promise<number> {
  const before = await routedInventoryCalls(operationsUrl);
  await work();
  const after = await routedInventoryCalls(operationsUrl);
  const extracted = after.extracted - before.extracted;
  return (extracted / (extracted + after.inProcess - before.inProcess)) * 100;
}
