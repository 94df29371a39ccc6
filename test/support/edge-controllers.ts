import { MODULE_METADATA } from '@nestjs/common/constants';
import type { Type } from '@nestjs/common';
import { HttpEdgeModule } from '@apps/http-edge';

/**
 * The controllers the public edge really mounts, read from its Nest modules (never a list kept by
 * hand). /ready and /metrics are not among them: the operations port serves those.
 */
export function edgeControllers(): Type[] {
  const modules: Type[] = [
    HttpEdgeModule,
    ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, HttpEdgeModule) as unknown[] | undefined) ?? []).filter(
      (m): m is Type => typeof m === 'function',
    ),
  ];
  return modules.flatMap(
    (module) => (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) as Type[] | undefined) ?? [],
  );
}
