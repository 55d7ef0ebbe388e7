/**
 * Microsoft.Network/applicationSecurityGroups (applicationSecurityGroup.json, 2024-05-01): PUT, GET,
 * PATCH (tags), DELETE, list in a resource group and in the subscription. An ASG has no members of its
 * own in ARM: NIC IP configurations name it (applicationSecurityGroups) and security rules name it as
 * source or destination (source/destinationApplicationSecurityGroups). Azure refuses deleting one that
 * is still named — the message is Azure's as reported in Azure/azure-cli#12591 ("... cannot be deleted
 * because it is referenced by IpConfiguration(s) ipconfig1"); the error code is not in the specs and is
 * named here after the NSG's InUseNetworkSecurityGroupCannotBeDeleted (unverified).
 */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId, sameId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import type { Emulator } from '../emulator';
import { T } from '../state';
import { networkDelete, networkPut } from './common';
import type { AsgRecord, NicRecord, NsgRecord } from './model';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/applicationSecurityGroups';

/** Azure's limits (azure-subscription-service-limits, networking): per IP configuration, per rule side, per NSG. */
export const ASG_LIMITS = { perIpConfiguration: 20, perRuleSide: 10, perNsg: 100 };

export const ASG_IN_USE = 'InUseApplicationSecurityGroupCannotBeDeleted';

export function findAsg(emu: Emulator, id: string): AsgRecord | undefined {
  return emu.store.get<AsgRecord>(T.asg, id);
}

export function renderAsg(a: AsgRecord): any {
  return {
    name: a.name,
    id: a.id,
    etag: a.etag,
    type: 'Microsoft.Network/applicationSecurityGroups',
    location: a.location,
    ...(a.tags ? { tags: a.tags } : {}),
    properties: { resourceGuid: a.resourceGuid, provisioningState: a.provisioningState },
  };
}

/** What still names the ASG: the IP configurations in it, and the NSG rules naming it. */
export function asgUsers(emu: Emulator, asgId: string): { ipConfigurations: string[]; rules: string[] } {
  const ipConfigurations = emu.store
    .list<NicRecord>(T.nic)
    .flatMap((n) => n.ipConfigurations)
    .filter((c) => (c.applicationSecurityGroupIds ?? []).some((x) => sameId(x, asgId)))
    .map((c) => c.id);
  const rules = emu.store
    .list<NsgRecord>(T.nsg)
    .flatMap((nsg) =>
      nsg.securityRules
        .filter((r: any) => [...(r.properties?.sourceApplicationSecurityGroups ?? []), ...(r.properties?.destinationApplicationSecurityGroups ?? [])].some((x: any) => sameId(x?.id, asgId)))
        .map((r: any) => `${nsg.id}/securityRules/${r.name}`),
    );
  return { ipConfigurations, rules };
}

function getAsg(ctx: Ctx): AsgRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const a = ctx.emu.store.get<AsgRecord>(T.asg, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'applicationSecurityGroups', ctx.params.name));
  if (!a) throw notFound('Microsoft.Network/applicationSecurityGroups', ctx.params.name, rg);
  return a;
}

export function registerAsgs(r: Router): void {
  r.add('GET', BASE, 'network', (ctx) => list(ctx.emu.store.list<AsgRecord>(T.asg, ctx.emu.requireRg(ctx.params.rg)).map(renderAsg)), 'ApplicationSecurityGroups_List');
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Network/applicationSecurityGroups',
    'network',
    (ctx) => list(ctx.emu.store.list<AsgRecord>(T.asg).map(renderAsg)),
    'ApplicationSecurityGroups_ListAll',
  );
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderAsg(getAsg(ctx))), 'ApplicationSecurityGroups_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'applicationSecurityGroups', ctx.params.name);
      const existing = emu.store.get<AsgRecord>(T.asg, id);
      if (existing && existing.location.toLowerCase() !== String(location).toLowerCase()) {
        throw new ArmError(
          400,
          'InvalidResourceLocation',
          `The resource '${ctx.params.name}' already exists in location '${existing.location}' in resource group '${rg}'. A resource with the same name cannot be created in location '${location}'.`,
        );
      }
      const asg: AsgRecord = existing ?? { id, name: ctx.params.name, resourceGroup: rg, location, resourceGuid: randomUUID(), etag: newEtag(), provisioningState: 'Succeeded' };
      asg.tags = tagsOf(ctx.body);
      asg.etag = newEtag();
      emu.store.put(T.asg, asg);
      return networkPut(ctx, !existing, asg, () => renderAsg(asg));
    },
    'ApplicationSecurityGroups_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const a = getAsg(ctx);
      a.tags = tagsOf(ctx.body);
      a.etag = newEtag();
      return ok(renderAsg(a));
    },
    'ApplicationSecurityGroups_UpdateTags',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const asg = emu.store.get<AsgRecord>(T.asg, resourceId(emu.sub, rg, 'Microsoft.Network', 'applicationSecurityGroups', ctx.params.name));
      if (!asg) return noContent;
      const users = asgUsers(emu, asg.id);
      if (users.ipConfigurations.length) {
        throw new ArmError(400, ASG_IN_USE, `Application Security Group ${asg.name} cannot be deleted because it is referenced by IpConfiguration(s) ${users.ipConfigurations.join(', ')}.`);
      }
      if (users.rules.length) {
        throw new ArmError(400, ASG_IN_USE, `Application Security Group ${asg.name} cannot be deleted because it is referenced by SecurityRule(s) ${users.rules.join(', ')}.`);
      }
      return networkDelete(ctx, asg, () => emu.store.delete(T.asg, asg.id));
    },
    'ApplicationSecurityGroups_Delete',
  );
}
