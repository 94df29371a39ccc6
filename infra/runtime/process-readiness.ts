import { Injectable } from '@nestjs/common';

export interface DependencyStatus {
  readonly up: boolean;
  /** `up`, or what is wrong, for the operator reading /ready. */
  readonly detail: string;
}

/** Something outside the process that it depends on: the broker, a peer process. */
export interface DependencyCheck {
  /** The indicator's name at /ready: `kafka`, `peer:<target>`. */
  readonly name: string;
  /**
   * Whether this dependency being down makes the process not ready (503). Only the process's own
   * dependencies gate; peers are reported, never gating (docs/adr/0020).
   */
  readonly gatesReadiness: boolean;
  /** Never throws, never takes much longer than a second or two. */
  check(): Promise<DependencyStatus>;
}

/**
 * The dependencies of this process besides its contexts' databases (which each ContextRuntime
 * checks itself), registered by the process wiring in split mode and read by /ready.
 */
@Injectable()
export class ProcessReadiness {
  private readonly checks = new Map<string, DependencyCheck>();

  add(check: DependencyCheck): { forget(): void } {
    if (this.checks.has(check.name)) {
      throw new Error(`readiness check ${check.name} is registered twice in this process`);
    }
    this.checks.set(check.name, check);
    return { forget: () => this.checks.delete(check.name) };
  }

  all(): DependencyCheck[] {
    return [...this.checks.values()];
  }
}
