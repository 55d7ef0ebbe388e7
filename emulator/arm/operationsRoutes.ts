/** Operation status (Azure-AsyncOperation) and monitor (Location) URLs, and resource group reads. */
import { ArmError } from './errors';
import { ok } from './http';
import type { Ctx } from './http';
import type { Router } from './router';

export function registerOperationRoutes(r: Router): void {
  const compute = '/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}';
  const status = (ctx: Ctx) => (ctx.query.get('monitor') === 'true' ? ctx.emu.ops.monitor(ctx, ctx.params.op) : ctx.emu.ops.statusDocument(ctx, ctx.params.op));
  r.add('GET', `${compute}/operations/{op}`, 'compute', status);
  r.add('GET', `${compute}/DiskOperations/{op}`, 'disk', status);
  const network = '/subscriptions/{sub}/providers/Microsoft.Network/locations/{location}';
  r.add('GET', `${network}/operations/{op}`, 'network', (ctx) => ctx.emu.ops.statusDocument(ctx, ctx.params.op));
  r.add('GET', `${network}/operationResults/{op}`, 'network', (ctx) => ctx.emu.ops.monitor(ctx, ctx.params.op));

  const rgBody = (ctx: Ctx, name: string) => ({
    id: `/subscriptions/${ctx.emu.sub}/resourceGroups/${name}`,
    name,
    type: 'Microsoft.Resources/resourceGroups',
    location: ctx.emu.location,
    properties: { provisioningState: 'Succeeded' },
  });
  r.add('GET', '/subscriptions/{sub}/resourcegroups', 'resources', (ctx) => ok({ value: [...ctx.emu.store.resourceGroups.values()].map((g) => rgBody(ctx, g.name)) }));
  r.add('GET', '/subscriptions/{sub}/resourcegroups/{rg}', 'resources', (ctx) => {
    const g = ctx.emu.store.resourceGroups.get(ctx.params.rg.toLowerCase());
    if (!g) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${ctx.params.rg}' could not be found.`);
    return ok(rgBody(ctx, g.name));
  });
  r.add('HEAD', '/subscriptions/{sub}/resourcegroups/{rg}', 'resources', (ctx) => ({
    status: ctx.emu.store.resourceGroups.has(ctx.params.rg.toLowerCase()) ? 204 : 404,
  }));
}
