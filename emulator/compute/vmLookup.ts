/** Finding a VM from the route, and guarding it against concurrent operations. */
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { resourceId } from '../arm/ids';
import { T } from '../state';
import type { VmRecord } from './model';

export function vmIdFor(ctx: Ctx, rg: string): string {
  return resourceId(ctx.emu.sub, rg, 'Microsoft.Compute', 'virtualMachines', ctx.params.vm);
}

export function getVm(ctx: Ctx): VmRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const vm = ctx.emu.store.get<VmRecord>(T.vm, vmIdFor(ctx, rg));
  if (!vm) throw notFound('Microsoft.Compute/virtualMachines', ctx.params.vm, rg);
  return vm;
}

/** Azure refuses a second operation on a VM while one is running: 409 Conflict. */
export function guardVm(ctx: Ctx, vm: VmRecord, operation: string): void {
  const running = ctx.emu.ops.inProgressFor(vm.id);
  if (running) {
    throw new ArmError(
      409,
      'Conflict',
      `Operation '${operation}' is not allowed on VM '${vm.name}' since another operation '${running.name}' is in progress on it. Retry after the operation completes.`,
    );
  }
}
