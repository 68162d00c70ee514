/**
 * The tenancy scope and the clock: the two facts every operation carries. Pure types, so every
 * layer can name them without importing the dependency container (`src/context.ts`).
 *
 * @module
 */

/** Source of time. Tests inject a fixed or steppable clock. */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** The tenancy scope of a request: every row read or written carries both ids. */
export interface Scope {
  /** `ten_…` TypeID of the tenant. */
  tenantId: string;
  /** `app_…` TypeID of the app within the tenant. */
  appId: string;
}
