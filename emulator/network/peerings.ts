/**
 * Microsoft.Network/virtualNetworks/{vnet}/virtualNetworkPeerings, as Azure behaves (learn.microsoft.com
 * "Create, change, or delete a virtual network peering"): a peering is one side; traffic flows once both
 * sides exist (peeringState Connected; one side alone is Initiated). Deleting one side, or the remote
 * network, leaves the other Disconnected, and Azure refuses to create the missing side against a
 * Disconnected one (RemotePeeringIsDisconnected) until that one is updated or re-created. Overlapping
 * address spaces cannot peer (VnetAddressSpacesOverlap). A network whose address space changed shows its
 * peerings out of sync (peeringSyncLevel) until each is PUT with syncRemoteAddressSpace=true.
 */
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId, sameId } from '../arm/ids';
import { newEtag, noContent } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { invalidReference, networkDelete, networkPut, refId } from './common';
import { parseCidr } from './ipam';
import type { PeeringRecord, VnetRecord } from './model';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{name}/virtualNetworkPeerings';

function vnetOf(ctx: Ctx): VnetRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const v = ctx.emu.store.get<VnetRecord>(T.vnet, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'virtualNetworks', ctx.params.name));
  if (!v) throw notFound('Microsoft.Network/virtualNetworks', ctx.params.name, rg);
  return v;
}

const remoteVnet = (emu: Emulator, id: string) => emu.store.list<VnetRecord>(T.vnet).find((v) => sameId(v.id, id));

/** The other side: the remote network's peering back to `local`, if any. */
const counterpart = (emu: Emulator, local: VnetRecord, p: PeeringRecord) => remoteVnet(emu, p.remoteId)?.peerings?.find((q) => sameId(q.remoteId, local.id));

const samePrefixes = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

function overlaps(a: string[], b: string[]): boolean {
  return a.some((x) =>
    b.some((y) => {
      const p = parseCidr(x)!;
      const q = parseCidr(y)!;
      return p.base < q.base + q.size && q.base < p.base + p.size;
    }),
  );
}

export function peeringState(emu: Emulator, local: VnetRecord, p: PeeringRecord): 'Initiated' | 'Connected' | 'Disconnected' {
  const remote = remoteVnet(emu, p.remoteId);
  const back = counterpart(emu, local, p);
  if (remote && back) return 'Connected';
  return p.connected ? 'Disconnected' : 'Initiated';
}

export function renderPeering(emu: Emulator, local: VnetRecord, p: PeeringRecord): any {
  const remote = remoteVnet(emu, p.remoteId);
  const back = counterpart(emu, local, p);
  const remoteOk = !remote || samePrefixes(p.remotePrefixes, remote.addressPrefixes);
  const localOk = !back || samePrefixes(back.remotePrefixes, local.addressPrefixes);
  const sync = remoteOk && localOk ? 'FullyInSync' : !remoteOk && !localOk ? 'LocalAndRemoteNotInSync' : !remoteOk ? 'RemoteNotInSync' : 'LocalNotInSync';
  return {
    name: p.name,
    id: p.id,
    etag: p.etag,
    type: 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings',
    properties: {
      provisioningState: p.provisioningState,
      peeringState: peeringState(emu, local, p),
      peeringSyncLevel: sync,
      remoteVirtualNetwork: { id: p.remoteId },
      allowVirtualNetworkAccess: p.allowVirtualNetworkAccess,
      allowForwardedTraffic: p.allowForwardedTraffic,
      allowGatewayTransit: false,
      useRemoteGateways: false,
      remoteAddressSpace: { addressPrefixes: p.remotePrefixes },
      remoteVirtualNetworkAddressSpace: { addressPrefixes: p.remotePrefixes },
    },
  };
}

/** A network's peerings are kept through its own PUT: they change through their own API only. */
export function settleConnections(emu: Emulator): void {
  for (const v of emu.store.list<VnetRecord>(T.vnet)) for (const p of v.peerings ?? []) if (counterpart(emu, v, p)) p.connected = true;
}

export function registerPeerings(r: Router): void {
  r.add(
    'GET',
    BASE,
    'network',
    (ctx) => {
      const v = vnetOf(ctx);
      return list((v.peerings ?? []).map((p) => renderPeering(ctx.emu, v, p)));
    },
    'VirtualNetworkPeerings_List',
  );
  r.add(
    'GET',
    `${BASE}/{peering}`,
    'network',
    (ctx) => {
      const v = vnetOf(ctx);
      const p = (v.peerings ?? []).find((x) => x.name.toLowerCase() === ctx.params.peering.toLowerCase());
      if (!p) throw notFound('Microsoft.Network/virtualNetworks/virtualNetworkPeerings', `${v.name}/${ctx.params.peering}`, v.resourceGroup);
      return ok(renderPeering(ctx.emu, v, p));
    },
    'VirtualNetworkPeerings_Get',
  );
  r.add(
    'PUT',
    `${BASE}/{peering}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const v = vnetOf(ctx);
      const id = `${v.id}/virtualNetworkPeerings/${ctx.params.peering}`;
      const props = ctx.body?.properties ?? {};
      const remoteId = refId(props.remoteVirtualNetwork);
      if (!remoteId) throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request. Property remoteVirtualNetwork of ${id} is required.`);
      const remote = remoteVnet(emu, remoteId);
      if (!remote) throw invalidReference(remoteId, id);
      if (sameId(remote.id, v.id)) throw new ArmError(400, 'CannotPeerVnetToItself', `Virtual network ${v.id} cannot be peered with itself. Peering: ${id}.`);
      if (overlaps(v.addressPrefixes, remote.addressPrefixes)) {
        throw new ArmError(400, 'VnetAddressSpacesOverlap', `Cannot create or update peering ${id}. Virtual networks ${v.id} and ${remote.id} cannot be peered because their address spaces overlap.`);
      }
      const peerings = (v.peerings ??= []);
      const existing = peerings.find((x) => x.name.toLowerCase() === ctx.params.peering.toLowerCase());
      if (existing && !sameId(existing.remoteId, remote.id)) {
        throw new ArmError(400, 'CannotChangeRemoteVirtualNetwork', `Cannot change the remote virtual network of peering ${id}.`);
      }
      if (!existing && peerings.some((x) => sameId(x.remoteId, remote.id))) {
        throw new ArmError(400, 'PeeringAlreadyExists', `Cannot create peering ${id} because a peering to ${remote.id} already exists on virtual network ${v.id}.`);
      }
      const back = remote.peerings?.find((q) => sameId(q.remoteId, v.id));
      if (!existing && back && peeringState(emu, remote, back) === 'Disconnected') {
        throw new ArmError(
          400,
          'RemotePeeringIsDisconnected',
          `Cannot create or update peering ${id} because remote peering ${back.id} referencing parent virtual network ${v.id} is in Disconnected state. Update or re-create the remote peering to get it back to Initiated state. Peering gets Disconnected when remote vnet or remote peering is deleted and re-created.`,
        );
      }
      const sync = ctx.query.get('syncRemoteAddressSpace')?.toLowerCase() === 'true';
      const p: PeeringRecord = existing ?? {
        id,
        name: ctx.params.peering,
        remoteId: remote.id,
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: false,
        remotePrefixes: [...remote.addressPrefixes],
        connected: false,
        etag: newEtag(),
        provisioningState: 'Succeeded',
      };
      p.allowVirtualNetworkAccess = props.allowVirtualNetworkAccess !== false;
      p.allowForwardedTraffic = props.allowForwardedTraffic === true;
      // Updating a Disconnected side brings it back to Initiated (Azure's way out of Disconnected).
      if (existing && peeringState(emu, v, existing) === 'Disconnected') existing.connected = false;
      if (sync || !existing) p.remotePrefixes = [...remote.addressPrefixes];
      p.etag = newEtag();
      if (!existing) peerings.push(p);
      settleConnections(emu);
      return networkPut(ctx, !existing, { id: p.id, provisioningState: 'Succeeded', location: v.location }, () => renderPeering(emu, v, p));
    },
    'VirtualNetworkPeerings_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${BASE}/{peering}`,
    'network',
    (ctx) => {
      const v = vnetOf(ctx);
      const p = (v.peerings ?? []).find((x) => x.name.toLowerCase() === ctx.params.peering.toLowerCase());
      if (!p) return noContent;
      return networkDelete(ctx, { id: p.id, provisioningState: p.provisioningState, location: v.location }, () => {
        v.peerings = (v.peerings ?? []).filter((x) => x !== p);
      });
    },
    'VirtualNetworkPeerings_Delete',
  );
}
