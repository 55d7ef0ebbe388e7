/**
 * Microsoft.Compute/availabilitySets and proximityPlacementGroups (Compute 2024-11-01,
 * availabilitySet.json and proximityPlacementGroup.json): synchronous PUT/GET/list/DELETE (no
 * long-running operation, as the spec says), and a VM's references to them, checked when the VM is
 * created and never changed afterwards (Azure adds a VM to an availability set only at creation).
 * The VMs in each are not stored on it: they are derived from the VM records, so a VM's delete takes
 * it out at once.
 */
import { ArmError, invalidParameter, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { isIdOfType, resourceId, sameId } from '../arm/ids';
import { tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import type { AvailabilitySetRecord, ProximityPlacementGroupRecord, VmRecord } from './model';

const PROVIDER = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute';

/** Azure's limits for an availability set (the region's fault domain maximum is 3 in most regions, 2 in some). */
export const MAX_FAULT_DOMAINS = 3;
export const MAX_UPDATE_DOMAINS = 20;

function members(emu: Emulator, pick: (vm: VmRecord) => string | undefined, id: string): VmRecord[] {
  return emu.store.list<VmRecord>(T.vm).filter((vm) => sameId(pick(vm), id));
}

export function renderAvailabilitySet(emu: Emulator, a: AvailabilitySetRecord): any {
  const vms = members(emu, (vm) => vm.availabilitySet, a.id);
  return {
    id: a.id,
    name: a.name,
    type: 'Microsoft.Compute/availabilitySets',
    location: a.location,
    ...(a.tags ? { tags: a.tags } : {}),
    properties: {
      platformUpdateDomainCount: a.platformUpdateDomainCount,
      platformFaultDomainCount: a.platformFaultDomainCount,
      virtualMachines: vms.map((vm) => ({ id: vm.id })),
      ...(a.proximityPlacementGroup ? { proximityPlacementGroup: { id: a.proximityPlacementGroup } } : {}),
    },
    sku: { name: a.sku },
  };
}

export function renderProximityPlacementGroup(emu: Emulator, g: ProximityPlacementGroupRecord): any {
  const vms = members(emu, (vm) => vm.proximityPlacementGroup, g.id);
  const sets = emu.store.list<AvailabilitySetRecord>(T.availabilitySet).filter((a) => sameId(a.proximityPlacementGroup, g.id));
  return {
    id: g.id,
    name: g.name,
    type: 'Microsoft.Compute/proximityPlacementGroups',
    location: g.location,
    ...(g.tags ? { tags: g.tags } : {}),
    properties: {
      proximityPlacementGroupType: g.proximityPlacementGroupType,
      virtualMachines: vms.map((vm) => ({ id: vm.id })),
      virtualMachineScaleSets: [],
      availabilitySets: sets.map((a) => ({ id: a.id })),
    },
  };
}

function intIn(v: unknown, min: number, max: number, target: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    throw invalidParameter(`The value ${String(v)} provided for ${target} is not valid. It must be between ${min} and ${max}.`, target);
  }
  return v as number;
}

function ppgById(emu: Emulator, id: unknown, target: string): ProximityPlacementGroupRecord {
  if (typeof id !== 'string' || !isIdOfType(id, 'Microsoft.Compute', 'proximityPlacementGroups')) {
    throw invalidParameter(`The value of parameter ${target} is not a proximity placement group resource id.`, target);
  }
  const g = emu.store.get<ProximityPlacementGroupRecord>(T.proximityPlacementGroup, id);
  if (!g) throw new ArmError(404, 'NotFound', `The Proximity Placement Group '${id}' cannot be found.`, target);
  return g;
}

export function registerPlacement(r: Router): void {
  // ---- availability sets ----
  const AS = `${PROVIDER}/availabilitySets`;
  const asId = (ctx: Ctx) => resourceId(ctx.emu.sub, ctx.emu.requireRg(ctx.params.rg), 'Microsoft.Compute', 'availabilitySets', ctx.params.name);
  r.add(
    'GET',
    AS,
    'compute',
    (ctx) => list(ctx.emu.store.list<AvailabilitySetRecord>(T.availabilitySet, ctx.emu.requireRg(ctx.params.rg)).map((a) => renderAvailabilitySet(ctx.emu, a))),
    'AvailabilitySets_List',
  );
  r.add(
    'GET',
    `${AS}/{name}`,
    'compute',
    (ctx) => {
      const a = ctx.emu.store.get<AvailabilitySetRecord>(T.availabilitySet, asId(ctx));
      if (!a) throw notFound('Microsoft.Compute/availabilitySets', ctx.params.name, ctx.params.rg);
      return ok(renderAvailabilitySet(ctx.emu, a));
    },
    'AvailabilitySets_Get',
  );
  r.add(
    'PUT',
    `${AS}/{name}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = asId(ctx);
      const p = ctx.body?.properties ?? {};
      const skuName: string = ctx.body?.sku?.name ?? 'Classic';
      if (!['Aligned', 'Classic'].includes(skuName)) throw invalidParameter(`The value '${skuName}' of parameter 'sku.name' is not valid (Aligned or Classic).`, 'sku.name');
      const fd = intIn(p.platformFaultDomainCount, 1, MAX_FAULT_DOMAINS, 'platformFaultDomainCount', 2);
      const ud = intIn(p.platformUpdateDomainCount, 1, MAX_UPDATE_DOMAINS, 'platformUpdateDomainCount', 5);
      const ppg = p.proximityPlacementGroup?.id !== undefined ? ppgById(emu, p.proximityPlacementGroup.id, 'proximityPlacementGroup.id').id : undefined;
      const existing = emu.store.get<AvailabilitySetRecord>(T.availabilitySet, id);
      if (existing) {
        if (existing.location !== location) throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'location' is not allowed.", 'location');
        const inUse = members(emu, (vm) => vm.availabilitySet, id).length > 0;
        if (inUse && (fd !== existing.platformFaultDomainCount || ud !== existing.platformUpdateDomainCount)) {
          throw new ArmError(
            409,
            'PropertyChangeNotAllowed',
            "Changing property 'platformFaultDomainCount' or 'platformUpdateDomainCount' is not allowed while the availability set holds virtual machines.",
            'properties',
          );
        }
        if (inUse && !sameId(ppg, existing.proximityPlacementGroup)) {
          throw new ArmError(
            409,
            'PropertyChangeNotAllowed',
            "Changing property 'proximityPlacementGroup' is not allowed while the availability set holds virtual machines.",
            'proximityPlacementGroup',
          );
        }
      }
      const rec: AvailabilitySetRecord = {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        tags: tagsOf(ctx.body),
        sku: skuName as 'Aligned' | 'Classic',
        platformFaultDomainCount: fd,
        platformUpdateDomainCount: ud,
        ...(ppg ? { proximityPlacementGroup: ppg } : {}),
      };
      emu.store.put(T.availabilitySet, rec);
      return ok(renderAvailabilitySet(emu, rec));
    },
    'AvailabilitySets_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${AS}/{name}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const id = asId(ctx);
      const a = emu.store.get<AvailabilitySetRecord>(T.availabilitySet, id);
      if (!a) return { status: 204 };
      if (members(emu, (vm) => vm.availabilitySet, id).length > 0) {
        throw new ArmError(409, 'OperationNotAllowed', `Availability Set '${a.name}' cannot be deleted. Before deleting an Availability Set please ensure that it does not contain any VM.`);
      }
      emu.store.delete(T.availabilitySet, id);
      return { status: 200 };
    },
    'AvailabilitySets_Delete',
  );

  // ---- proximity placement groups ----
  const PPG = `${PROVIDER}/proximityPlacementGroups`;
  const ppgId = (ctx: Ctx) => resourceId(ctx.emu.sub, ctx.emu.requireRg(ctx.params.rg), 'Microsoft.Compute', 'proximityPlacementGroups', ctx.params.name);
  r.add(
    'GET',
    PPG,
    'compute',
    (ctx) => list(ctx.emu.store.list<ProximityPlacementGroupRecord>(T.proximityPlacementGroup, ctx.emu.requireRg(ctx.params.rg)).map((g) => renderProximityPlacementGroup(ctx.emu, g))),
    'ProximityPlacementGroups_ListByResourceGroup',
  );
  r.add(
    'GET',
    `${PPG}/{name}`,
    'compute',
    (ctx) => {
      const g = ctx.emu.store.get<ProximityPlacementGroupRecord>(T.proximityPlacementGroup, ppgId(ctx));
      if (!g) throw notFound('Microsoft.Compute/proximityPlacementGroups', ctx.params.name, ctx.params.rg);
      return ok(renderProximityPlacementGroup(ctx.emu, g));
    },
    'ProximityPlacementGroups_Get',
  );
  r.add(
    'PUT',
    `${PPG}/{name}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = ppgId(ctx);
      const type: string = ctx.body?.properties?.proximityPlacementGroupType ?? 'Standard';
      if (!['Standard', 'Ultra'].includes(type)) throw invalidParameter(`The value '${type}' of parameter 'proximityPlacementGroupType' is not valid.`, 'proximityPlacementGroupType');
      const existing = emu.store.get<ProximityPlacementGroupRecord>(T.proximityPlacementGroup, id);
      if (existing && existing.location !== location) throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'location' is not allowed.", 'location');
      const rec: ProximityPlacementGroupRecord = { id, name: ctx.params.name, resourceGroup: rg, location, tags: tagsOf(ctx.body), proximityPlacementGroupType: type };
      emu.store.put(T.proximityPlacementGroup, rec);
      return { status: existing ? 200 : 201, body: renderProximityPlacementGroup(emu, rec) };
    },
    'ProximityPlacementGroups_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${PPG}/{name}`,
    'compute',
    (ctx) => {
      const emu = ctx.emu;
      const id = ppgId(ctx);
      const g = emu.store.get<ProximityPlacementGroupRecord>(T.proximityPlacementGroup, id);
      if (!g) return { status: 200 };
      const usedBy = members(emu, (vm) => vm.proximityPlacementGroup, id).length + emu.store.list<AvailabilitySetRecord>(T.availabilitySet).filter((a) => sameId(a.proximityPlacementGroup, id)).length;
      if (usedBy > 0) {
        throw new ArmError(409, 'OperationNotAllowed', `Proximity Placement Group '${g.name}' cannot be deleted because it still has resources referencing it.`);
      }
      emu.store.delete(T.proximityPlacementGroup, id);
      return { status: 200 };
    },
    'ProximityPlacementGroups_Delete',
  );
}

/**
 * A VM create's placement references (properties.availabilitySet, properties.proximityPlacementGroup),
 * with Azure's refusals: the availability set must exist in the VM's resource group and location, a VM
 * in one cannot also name zones, and the VM's proximity placement group must be the availability set's
 * when that has one. The VM gets the next fault and update domain of the set (round robin).
 */
export function planPlacement(
  emu: Emulator,
  vm: { id: string; resourceGroup: string; location: string; zones?: string[] },
  p: any,
): Pick<VmRecord, 'availabilitySet' | 'proximityPlacementGroup' | 'platformFaultDomain' | 'platformUpdateDomain'> {
  const out: Pick<VmRecord, 'availabilitySet' | 'proximityPlacementGroup' | 'platformFaultDomain' | 'platformUpdateDomain'> = {};
  if (p?.proximityPlacementGroup?.id !== undefined) {
    const g = ppgById(emu, p.proximityPlacementGroup.id, 'proximityPlacementGroup.id');
    if (g.location !== vm.location) throw invalidParameter(`The proximity placement group '${g.id}' is in location '${g.location}', not '${vm.location}'.`, 'proximityPlacementGroup.id');
    out.proximityPlacementGroup = g.id;
  }
  const asRef = p?.availabilitySet?.id;
  if (asRef === undefined) return out;
  if (typeof asRef !== 'string' || !isIdOfType(asRef, 'Microsoft.Compute', 'availabilitySets')) {
    throw invalidParameter('The value of parameter availabilitySet.id is not an availability set resource id.', 'availabilitySet.id');
  }
  const a = emu.store.get<AvailabilitySetRecord>(T.availabilitySet, asRef);
  if (!a) throw new ArmError(404, 'NotFound', `The Availability Set '${asRef}' cannot be found.`, 'availabilitySet.id');
  if (a.resourceGroup.toLowerCase() !== vm.resourceGroup.toLowerCase()) {
    throw invalidParameter(`The availability set '${a.id}' must be in the virtual machine's resource group '${vm.resourceGroup}'.`, 'availabilitySet.id');
  }
  if (vm.zones?.length) {
    throw invalidParameter('Virtual Machines deployed to an Availability Zone cannot be added to an Availability Set.', 'availabilitySet.id');
  }
  if (a.proximityPlacementGroup && out.proximityPlacementGroup && !sameId(a.proximityPlacementGroup, out.proximityPlacementGroup)) {
    throw invalidParameter(`The virtual machine's proximity placement group must be the availability set's ('${a.proximityPlacementGroup}').`, 'proximityPlacementGroup.id');
  }
  const n = members(emu, (x) => x.availabilitySet, a.id).filter((x) => !sameId(x.id, vm.id)).length;
  out.availabilitySet = a.id;
  if (a.proximityPlacementGroup) out.proximityPlacementGroup = a.proximityPlacementGroup;
  out.platformFaultDomain = n % a.platformFaultDomainCount;
  out.platformUpdateDomain = n % a.platformUpdateDomainCount;
  return out;
}

/** A PUT on an existing VM may not move it into, out of or between availability sets / proximity placement groups. */
export function checkPlacementUnchanged(vm: VmRecord, p: any): void {
  const asRef = p?.availabilitySet?.id;
  if (asRef !== undefined && !sameId(asRef, vm.availabilitySet)) {
    throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'availabilitySet.id' is not allowed.", 'availabilitySet.id');
  }
  const ppg = p?.proximityPlacementGroup?.id;
  if (ppg !== undefined && !sameId(ppg, vm.proximityPlacementGroup)) {
    throw new ArmError(409, 'PropertyChangeNotAllowed', "Changing property 'proximityPlacementGroup.id' is not allowed.", 'proximityPlacementGroup.id');
  }
}
