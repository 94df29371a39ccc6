export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __ficusTestDatabase?: { stop(): Promise<void> } }).__ficusTestDatabase;
  await server?.stop();
}
