import { Injectable } from '@nestjs/common';
import type { ContextRuntime } from './context-runtime';

/** The bounded contexts running in this process, for readiness and operator tasks. */
@Injectable()
export class ContextRegistry {
  private readonly contexts = new Map<string, ContextRuntime>();

  register(runtime: ContextRuntime): void {
    if (this.contexts.has(runtime.context)) {
      throw new Error(`context ${runtime.context} is loaded twice in this process`);
    }
    this.contexts.set(runtime.context, runtime);
  }

  get(context: string): ContextRuntime | undefined {
    return this.contexts.get(context);
  }

  all(): ContextRuntime[] {
    return [...this.contexts.values()];
  }
}
