import { ROUTE_TABLE } from '../openapi/route-table';

/** Every route the edge serves, as a pattern over paths (`orders/:id` → `^/orders/[^/]+/?$`). */
const SERVED = ROUTE_TABLE.map((route) => ({
  method: route.method,
  pattern: new RegExp(
    `^/${route.route
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : escape(segment)))
      .join('/')}/?$`,
  ),
}));

/** Whether the edge has a route for this method and path (HEAD is served by the GET route). */
export function servesRoute(method: string, path: string): boolean {
  const asked = method === 'HEAD' ? 'GET' : method;
  return SERVED.some((route) => route.method === asked && route.pattern.test(path));
}

/** Whether the edge has a route at this path, whatever the method. */
export function servesPath(path: string): boolean {
  return SERVED.some((route) => route.pattern.test(path));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
