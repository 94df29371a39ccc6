import { MODULE_METADATA } from '@nestjs/common/constants';
import type { Type } from '@nestjs/common';
import { HealthModule, HttpEdgeModule } from '@apps/http-edge';

/** The controllers the public edge really mounts, read from its Nest modules (never a list kept by hand). */
export function edgeControllers(): Type[] {
  return [HttpEdgeModule, HealthModule].flatMap((module) => (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) as Type[] | undefined) ?? []);
}
