import { Logger } from '@nestjs/common';
import { holdsFor } from './bucketing';
import { FLAG_OFF, type FlagState } from './flag-state';
import { flagNameOf, type FlagDeclarations, type FlagRef } from './flag-definition';

/**
 * The one way code reads a flag. Reads are synchronous and cost a map lookup (and a SHA-256 for a
 * percentage): they come from this process's snapshot of the store, which the store keeps fresh
 * (LISTEN/NOTIFY, and a periodic re-read). Inject it by its class:
 * `constructor(private readonly flags: Flags) {}`.
 */
export abstract class Flags {
  /** The stored state, else the declared default, else `off` (and one warning) for a name nobody declared. */
  abstract state(flag: FlagRef): FlagState;

  /**
   * Whether the flag holds for `subject`: a customer id, an aggregate id. One subject always gets
   * the same answer for a given state, in every process (see bucketing.ts).
   */
  isOn(flag: FlagRef, subject?: string): boolean {
    return holdsFor(this.state(flag), flagNameOf(flag), subject);
  }
}

/** Resolves a flag from stored states, falling back to what the code declares. */
export class SnapshotFlags extends Flags {
  protected stored: ReadonlyMap<string, FlagState> = new Map();
  private readonly warned = new Set<string>();
  protected readonly logger = new Logger('Flags');

  constructor(protected readonly declarations: FlagDeclarations) {
    super();
  }

  state(flag: FlagRef): FlagState {
    const name = flagNameOf(flag);
    const stored = this.stored.get(name);
    if (stored) return stored;
    const declared = this.declarations.get(name) ?? (typeof flag === 'string' ? undefined : flag);
    if (declared) return declared.default;
    if (!this.warned.has(name)) {
      this.warned.add(name);
      this.logger.warn({ flag: name }, 'flag read but never declared nor set: off');
    }
    return FLAG_OFF;
  }
}

/**
 * For a process given no database: every flag says its declared default, and nothing can change
 * it at run time. The log says so once.
 */
export class DefaultFlags extends SnapshotFlags {
  constructor(declarations: FlagDeclarations) {
    super(declarations);
    this.logger.warn(
      'this process has no database: flags keep their declared defaults and cannot be changed at run time',
    );
  }
}
