/** Reply helpers for the ARM long-running-operation shapes. */
import type { Ctx, Reply } from './http';
import type { Operation } from './lro';

/** PUT/PATCH that answers 200/201 with the resource body and an Azure-AsyncOperation header. */
export function lroBody(ctx: Ctx, status: number, body: unknown, op: Operation, withLocation = false): Reply {
  return { status, body, headers: ctx.emu.ops.headers(ctx, op, withLocation) };
}

/** POST/DELETE (and DiskRP PUT/PATCH) that answers 202 with Location and Azure-AsyncOperation. */
export function accepted(ctx: Ctx, op: Operation, body?: unknown): Reply {
  return { status: 202, body, headers: ctx.emu.ops.headers(ctx, op, true) };
}

export const noContent: Reply = { status: 204 };

export function newEtag(): string {
  return `W/"${crypto.randomUUID()}"`;
}

export function tagsOf(body: any): Record<string, string> | undefined {
  const t = body?.tags;
  return t && typeof t === 'object' ? { ...t } : undefined;
}
