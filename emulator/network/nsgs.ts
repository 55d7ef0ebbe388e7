/** Microsoft.Network/networkSecurityGroups (and their securityRules). */
import { randomUUID } from 'node:crypto';
import { ArmError, notFound } from '../arm/errors';
import type { Ctx, Reply } from '../arm/http';
import { list, ok } from '../arm/http';
import { resourceId, sameId } from '../arm/ids';
import { newEtag, noContent, tagsOf } from '../arm/replies';
import type { Router } from '../arm/router';
import { T } from '../state';
import type { Emulator } from '../emulator';
import { ASG_LIMITS, findAsg } from './asgs';
import { invalidReference, networkDelete, networkPut } from './common';
import type { NicRecord, NsgRecord, VnetRecord } from './model';
import { renderNsg, renderSecurityRule } from './render';

const BASE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups';

function validateRule(rule: any, index: number): any {
  const p = rule?.properties ?? {};
  const where = `securityRules[${index}]`;
  if (typeof rule?.name !== 'string' || !rule.name) throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: ${where}.name is required.`, where);
  for (const k of ['protocol', 'access', 'direction']) {
    if (typeof p[k] !== 'string') throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: ${where}.properties.${k} is required.`, where);
  }
  if (!Number.isInteger(p.priority) || p.priority < 100 || p.priority > 4096) {
    throw new ArmError(400, 'SecurityRuleInvalidPriority', `Security rule ${rule.name} has invalid Priority. Value provided: ${p.priority} Allowed range 100-4096.`, where);
  }
  return { name: rule.name, etag: newEtag(), properties: { ...p } };
}

/**
 * A rule's application security groups (source/destinationApplicationSecurityGroups): each must exist
 * in the NSG's region (InvalidResourceReference, as for any missing reference), at most 10 per side, and
 * a side names either ASGs or address prefixes, not both. Azure's codes for the last two are not in
 * the specs (named here, unverified); the limits are azure-subscription-service-limits' networking ones.
 */
function resolveRuleAsgs(emu: Emulator, nsgId: string, location: string, rule: any): void {
  const p = rule.properties;
  for (const side of ['source', 'destination'] as const) {
    const key = `${side}ApplicationSecurityGroups`;
    const raw = p[key];
    if (raw === undefined || raw === null) continue;
    if (!Array.isArray(raw)) throw new ArmError(400, 'InvalidRequestFormat', `Cannot parse the request: ${key} must be an array.`, key);
    if (raw.length === 0) {
      delete p[key];
      continue;
    }
    if (raw.length > ASG_LIMITS.perRuleSide) {
      throw new ArmError(
        400,
        'SecurityRuleApplicationSecurityGroupsLimitExceeded',
        `Security rule ${rule.name} has ${raw.length} application security groups as ${side}; at most ${ASG_LIMITS.perRuleSide} are allowed.`,
      );
    }
    const prefix = p[`${side}AddressPrefix`];
    const prefixes = p[`${side}AddressPrefixes`];
    if ((typeof prefix === 'string' && prefix !== '') || (Array.isArray(prefixes) && prefixes.length > 0)) {
      throw new ArmError(
        400,
        'SecurityRuleParameterContainsAddressPrefixAndApplicationSecurityGroup',
        `Security rule ${rule.name} specifies both ${side} address prefixes and ${side} application security groups; a rule names one or the other.`,
      );
    }
    p[key] = raw.map((x: any) => {
      const id = x?.id;
      const asg = typeof id === 'string' ? findAsg(emu, id) : undefined;
      if (!asg || asg.location.toLowerCase() !== location.toLowerCase()) throw invalidReference(String(id), `${nsgId}/securityRules/${rule.name}`);
      return { id: asg.id };
    });
  }
}

/** Azure's limit on the ASGs named in all rules of one NSG. */
function checkNsgAsgCount(rules: any[]): void {
  const ids = new Set<string>();
  for (const r of rules) for (const x of [...(r.properties.sourceApplicationSecurityGroups ?? []), ...(r.properties.destinationApplicationSecurityGroups ?? [])]) ids.add(String(x.id).toLowerCase());
  if (ids.size > ASG_LIMITS.perNsg) {
    throw new ArmError(
      400,
      'NetworkSecurityGroupApplicationSecurityGroupsLimitExceeded',
      `The security rules of a network security group name ${ids.size} application security groups; at most ${ASG_LIMITS.perNsg} are allowed.`,
    );
  }
}

/** Azure refuses two rules of one NSG with the same priority and direction (SecurityRuleConflict). */
function checkConflicts(rules: any[]): void {
  for (let i = 0; i < rules.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = rules[i].properties;
      const b = rules[j].properties;
      if (a.priority === b.priority && String(a.direction).toLowerCase() === String(b.direction).toLowerCase()) {
        throw new ArmError(
          400,
          'SecurityRuleConflict',
          `Security rule ${rules[i].name} conflicts with rule ${rules[j].name}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.`,
        );
      }
    }
  }
}

function getNsg(ctx: Ctx): NsgRecord {
  const rg = ctx.emu.requireRg(ctx.params.rg);
  const nsg = ctx.emu.store.get<NsgRecord>(T.nsg, resourceId(ctx.emu.sub, rg, 'Microsoft.Network', 'networkSecurityGroups', ctx.params.name));
  if (!nsg) throw notFound('Microsoft.Network/networkSecurityGroups', ctx.params.name, rg);
  return nsg;
}

export function nsgInUse(ctx: Ctx, nsg: NsgRecord): string | undefined {
  const nic = ctx.emu.store.list<NicRecord>(T.nic).find((n) => sameId(n.nsgId, nsg.id));
  if (nic) return nic.id;
  const subnet = ctx.emu.store
    .list<VnetRecord>(T.vnet)
    .flatMap((v) => v.subnets)
    .find((s) => sameId(s.nsgId, nsg.id));
  return subnet?.id;
}

export function registerNsgs(r: Router): void {
  r.add(
    'GET',
    BASE,
    'network',
    (ctx) => {
      const rg = ctx.emu.requireRg(ctx.params.rg);
      return list(ctx.emu.store.list<NsgRecord>(T.nsg, rg).map((n) => renderNsg(ctx.emu, n)));
    },
    'NetworkSecurityGroups_List',
  );
  r.add(
    'GET',
    '/subscriptions/{sub}/providers/Microsoft.Network/networkSecurityGroups',
    'network',
    (ctx) => list(ctx.emu.store.list<NsgRecord>(T.nsg).map((n) => renderNsg(ctx.emu, n))),
    'NetworkSecurityGroups_ListAll',
  );
  r.add('GET', `${BASE}/{name}`, 'network', (ctx) => ok(renderNsg(ctx.emu, getNsg(ctx))), 'NetworkSecurityGroups_Get');
  r.add(
    'PUT',
    `${BASE}/{name}`,
    'network',
    (ctx): Reply => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const location = emu.requireLocation(ctx.body?.location);
      const id = resourceId(emu.sub, rg, 'Microsoft.Network', 'networkSecurityGroups', ctx.params.name);
      const rules = (ctx.body?.properties?.securityRules ?? []) as any[];
      if (!Array.isArray(rules)) throw new ArmError(400, 'InvalidRequestFormat', 'securityRules must be an array.');
      const validated = rules.map(validateRule);
      for (const v of validated) resolveRuleAsgs(emu, id, location, v);
      checkConflicts(validated);
      checkNsgAsgCount(validated);
      const existing = emu.store.get<NsgRecord>(T.nsg, id);
      const nsg: NsgRecord = existing ?? {
        id,
        name: ctx.params.name,
        resourceGroup: rg,
        location,
        securityRules: [],
        resourceGuid: randomUUID(),
        etag: newEtag(),
        provisioningState: 'Succeeded',
      };
      nsg.securityRules = validated;
      nsg.tags = tagsOf(ctx.body);
      nsg.etag = newEtag();
      emu.store.put(T.nsg, nsg);
      return networkPut(ctx, !existing, nsg, () => renderNsg(emu, nsg));
    },
    'NetworkSecurityGroups_CreateOrUpdate',
  );
  r.add(
    'PATCH',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const nsg = getNsg(ctx);
      nsg.tags = tagsOf(ctx.body);
      nsg.etag = newEtag();
      return ok(renderNsg(ctx.emu, nsg));
    },
    'NetworkSecurityGroups_UpdateTags',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}`,
    'network',
    (ctx) => {
      const emu = ctx.emu;
      const rg = emu.requireRg(ctx.params.rg);
      const nsg = emu.store.get<NsgRecord>(T.nsg, resourceId(emu.sub, rg, 'Microsoft.Network', 'networkSecurityGroups', ctx.params.name));
      if (!nsg) return noContent;
      const user = nsgInUse(ctx, nsg);
      if (user) {
        throw new ArmError(
          400,
          'InUseNetworkSecurityGroupCannotBeDeleted',
          `Network security group ${nsg.id} cannot be deleted because it is in use by the following resources: ${user}. In order to delete the Network security group, remove the association with the resource(s).`,
        );
      }
      return networkDelete(ctx, nsg, () => emu.store.delete(T.nsg, nsg.id));
    },
    'NetworkSecurityGroups_Delete',
  );

  // securityRules as child resources
  r.add(
    'GET',
    `${BASE}/{name}/securityRules`,
    'network',
    (ctx) => {
      const nsg = getNsg(ctx);
      return list(nsg.securityRules.map((x) => renderSecurityRule(nsg.id, x)));
    },
    'SecurityRules_List',
  );
  r.add(
    'GET',
    `${BASE}/{name}/securityRules/{rule}`,
    'network',
    (ctx) => {
      const nsg = getNsg(ctx);
      const rule = nsg.securityRules.find((x) => x.name.toLowerCase() === ctx.params.rule.toLowerCase());
      if (!rule) throw notFound('Microsoft.Network/networkSecurityGroups/securityRules', `${nsg.name}/${ctx.params.rule}`, nsg.resourceGroup);
      return ok(renderSecurityRule(nsg.id, rule));
    },
    'SecurityRules_Get',
  );
  r.add(
    'PUT',
    `${BASE}/{name}/securityRules/{rule}`,
    'network',
    (ctx) => {
      const nsg = getNsg(ctx);
      const rule = validateRule({ ...(ctx.body ?? {}), name: ctx.params.rule }, 0);
      resolveRuleAsgs(ctx.emu, nsg.id, nsg.location, rule);
      const i = nsg.securityRules.findIndex((x) => x.name.toLowerCase() === ctx.params.rule.toLowerCase());
      checkConflicts([...nsg.securityRules.filter((_, k) => k !== i), rule]);
      checkNsgAsgCount([...nsg.securityRules.filter((_, k) => k !== i), rule]);
      if (i >= 0) nsg.securityRules[i] = rule;
      else nsg.securityRules.push(rule);
      nsg.etag = newEtag();
      const rec = { id: `${nsg.id}/securityRules/${rule.name}`, provisioningState: 'Succeeded', location: nsg.location };
      return networkPut(ctx, i < 0, rec, () => renderSecurityRule(nsg.id, rule, rec.provisioningState));
    },
    'SecurityRules_CreateOrUpdate',
  );
  r.add(
    'DELETE',
    `${BASE}/{name}/securityRules/{rule}`,
    'network',
    (ctx) => {
      const nsg = getNsg(ctx);
      const rule = nsg.securityRules.find((x) => x.name.toLowerCase() === ctx.params.rule.toLowerCase());
      if (!rule) return noContent;
      const rec = { id: `${nsg.id}/securityRules/${rule.name}`, provisioningState: 'Succeeded', location: nsg.location };
      return networkDelete(ctx, rec, () => {
        nsg.securityRules = nsg.securityRules.filter((x) => x !== rule);
        nsg.etag = newEtag();
      });
    },
    'SecurityRules_Delete',
  );
}
