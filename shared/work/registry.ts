// TRANSITIONAL: the import-side-effect registration that predates the engine. Modules still calling
// registerWork get the old behaviour (a thrown error goes back to the host's retry and poison queue).
// Each module moves to a WorkKind listed in handlers.ts; this file goes when the last one has.
import type { Services } from '../services';
import type { WorkItem, WorkKind, WorkResult } from './types';

export type WorkHandler = (item: WorkItem, services: Services) => Promise<WorkResult>;
const legacy = new Map<string, WorkKind & { legacy: true }>();

export function registerWork(kind: string, handler: WorkHandler): void {
  if (legacy.has(kind)) throw new Error(`work kind ${kind} registered twice`);
  legacy.set(kind, { kind, run: handler, giveUp: async () => undefined, legacy: true });
}

export const legacyKind = (name: string) => legacy.get(name);
