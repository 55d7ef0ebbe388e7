// The custom role (infra/jacket-role.json, deployed by infra/main.bicep) must hold every ARM action the
// driver layer's SDK calls need — and nothing else. This test finds every Azure SDK operation call in
// the driver code with the TypeScript type checker (so aliases such as `const vms =
// compute.virtualMachines; vms.start(...)` count), maps each to its RBAC actions with the explicit
// table below, and fails when:
// - a call is not in the table (add a row: the operation's actions are listed in the Azure docs
//   "Azure resource provider operations"),
// - the role lacks an action a call needs (add it to infra/jacket-role.json),
// - the role grants an action no call needs (remove it: least privilege).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../support/paths';
import { RAW_ARM_OPERATIONS } from '../../shared/azure/vms';

/**
 * Where the driver's ARM calls are. Today they are still spread over the resource modules; when the
 * driver layer (shared/azure/*.ts) holds them all, narrow this to ['shared/azure'].
 */
// The driver layer is the only code that calls Azure (test/unit/layers.test.ts holds that rule).
export const SCANNED = ['shared/azure'];

const C = 'Microsoft.Compute';
const N = 'Microsoft.Network';
const S = 'Microsoft.Storage';

/**
 * SDK operation (client.group.method, with begin…/…AndWait folded to the method) → the RBAC actions the
 * caller needs. Linked-access checks are listed with the call that triggers them: a NIC in a subnet
 * needs subnets/join, a VM on a NIC needs networkInterfaces/join, a disk or image made from a blob in
 * Jacket's account needs the account's read.
 */
export const ACTIONS: Record<string, string[]> = {
  'compute.virtualMachines.get': [`${C}/virtualMachines/read`],
  'compute.virtualMachines.list': [`${C}/virtualMachines/read`],
  'compute.virtualMachines.listAll': [`${C}/virtualMachines/read`],
  'compute.virtualMachines.instanceView': [`${C}/virtualMachines/instanceView/read`],
  'compute.virtualMachines.createOrUpdate': [`${C}/virtualMachines/write`, `${N}/networkInterfaces/join/action`, `${C}/disks/read`, `${C}/images/read`],
  'compute.virtualMachines.update': [`${C}/virtualMachines/write`, `${C}/disks/read`],
  'compute.virtualMachines.delete': [`${C}/virtualMachines/delete`],
  'compute.virtualMachines.start': [`${C}/virtualMachines/start/action`],
  'compute.virtualMachines.powerOff': [`${C}/virtualMachines/powerOff/action`],
  'compute.virtualMachines.deallocate': [`${C}/virtualMachines/deallocate/action`],
  'compute.virtualMachines.restart': [`${C}/virtualMachines/restart/action`],
  'compute.virtualMachines.redeploy': [`${C}/virtualMachines/redeploy/action`],
  'compute.virtualMachines.reimage': [`${C}/virtualMachines/reimage/action`],
  'compute.virtualMachines.generalize': [`${C}/virtualMachines/generalize/action`],
  'compute.virtualMachines.attachDetachDataDisks': [`${C}/virtualMachines/attachDetachDataDisks/action`, `${C}/disks/read`],
  'compute.virtualMachines.retrieveBootDiagnosticsData': [`${C}/virtualMachines/retrieveBootDiagnosticsData/action`],
  'compute.virtualMachines.runCommand': [`${C}/virtualMachines/runCommand/action`],
  'compute.virtualMachines.listAvailableSizes': [`${C}/virtualMachines/vmSizes/read`],
  'compute.virtualMachineExtensions.get': [`${C}/virtualMachines/extensions/read`],
  'compute.virtualMachineExtensions.list': [`${C}/virtualMachines/extensions/read`],
  'compute.virtualMachineExtensions.createOrUpdate': [`${C}/virtualMachines/extensions/write`],
  'compute.virtualMachineExtensions.update': [`${C}/virtualMachines/extensions/write`],
  'compute.virtualMachineExtensions.delete': [`${C}/virtualMachines/extensions/delete`],
  'compute.virtualMachineSizes.list': [`${C}/locations/vmSizes/read`],
  'compute.virtualMachineImages.list': [`${C}/locations/publishers/artifacttypes/offers/skus/versions/read`],
  'compute.virtualMachineImages.get': [`${C}/locations/publishers/artifacttypes/offers/skus/versions/read`],
  'compute.resourceSkus.list': [`${C}/skus/read`],
  'compute.usage.list': [`${C}/locations/usages/read`],
  'compute.disks.get': [`${C}/disks/read`],
  'compute.disks.list': [`${C}/disks/read`],
  'compute.disks.listByResourceGroup': [`${C}/disks/read`],
  'compute.disks.createOrUpdate': [`${C}/disks/write`, `${C}/snapshots/read`, `${C}/disks/read`, `${S}/storageAccounts/read`],
  'compute.disks.update': [`${C}/disks/write`],
  'compute.disks.delete': [`${C}/disks/delete`],
  'compute.disks.grantAccess': [`${C}/disks/beginGetAccess/action`],
  'compute.disks.revokeAccess': [`${C}/disks/endGetAccess/action`],
  'compute.snapshots.get': [`${C}/snapshots/read`],
  'compute.snapshots.list': [`${C}/snapshots/read`],
  'compute.snapshots.listByResourceGroup': [`${C}/snapshots/read`],
  'compute.snapshots.createOrUpdate': [`${C}/snapshots/write`, `${C}/disks/read`],
  'compute.snapshots.update': [`${C}/snapshots/write`],
  'compute.snapshots.delete': [`${C}/snapshots/delete`],
  'compute.snapshots.grantAccess': [`${C}/snapshots/beginGetAccess/action`],
  'compute.snapshots.revokeAccess': [`${C}/snapshots/endGetAccess/action`],
  'compute.availabilitySets.get': [`${C}/availabilitySets/read`],
  'compute.availabilitySets.createOrUpdate': [`${C}/availabilitySets/write`],
  'compute.availabilitySets.delete': [`${C}/availabilitySets/delete`],
  'compute.proximityPlacementGroups.get': [`${C}/proximityPlacementGroups/read`],
  'compute.proximityPlacementGroups.createOrUpdate': [`${C}/proximityPlacementGroups/write`],
  'compute.proximityPlacementGroups.delete': [`${C}/proximityPlacementGroups/delete`],
  'compute.images.get': [`${C}/images/read`],
  'compute.images.list': [`${C}/images/read`],
  'compute.images.listByResourceGroup': [`${C}/images/read`],
  'compute.images.createOrUpdate': [`${C}/images/write`, `${C}/snapshots/read`, `${C}/disks/read`, `${S}/storageAccounts/read`],
  'compute.images.delete': [`${C}/images/delete`],
  'network.networkInterfaces.get': [`${N}/networkInterfaces/read`],
  'network.networkInterfaces.list': [`${N}/networkInterfaces/read`],
  'network.networkInterfaces.listAll': [`${N}/networkInterfaces/read`],
  // A NIC PUT also links its NSG, (floating IPs) its public IP and (security groups) its IP
  // configuration's application security groups.
  'network.networkInterfaces.createOrUpdate': [
    `${N}/networkInterfaces/write`,
    `${N}/virtualNetworks/subnets/join/action`,
    `${N}/networkSecurityGroups/join/action`,
    `${N}/publicIPAddresses/join/action`,
    `${N}/applicationSecurityGroups/joinIpConfiguration/action`,
  ],
  'network.networkInterfaces.updateTags': [`${N}/networkInterfaces/write`],
  'network.networkInterfaces.delete': [`${N}/networkInterfaces/delete`],
  'network.networkSecurityGroups.get': [`${N}/networkSecurityGroups/read`],
  'network.networkSecurityGroups.list': [`${N}/networkSecurityGroups/read`],
  // Rules naming an application security group (remote_group_id) join it.
  'network.networkSecurityGroups.createOrUpdate': [`${N}/networkSecurityGroups/write`, `${N}/applicationSecurityGroups/joinNetworkSecurityRule/action`],
  'network.networkSecurityGroups.delete': [`${N}/networkSecurityGroups/delete`],
  'network.securityRules.list': [`${N}/networkSecurityGroups/securityRules/read`],
  'network.securityRules.createOrUpdate': [`${N}/networkSecurityGroups/securityRules/write`, `${N}/applicationSecurityGroups/joinNetworkSecurityRule/action`],
  'network.applicationSecurityGroups.get': [`${N}/applicationSecurityGroups/read`],
  'network.applicationSecurityGroups.list': [`${N}/applicationSecurityGroups/read`],
  'network.applicationSecurityGroups.createOrUpdate': [`${N}/applicationSecurityGroups/write`],
  'network.applicationSecurityGroups.delete': [`${N}/applicationSecurityGroups/delete`],
  'network.securityRules.delete': [`${N}/networkSecurityGroups/securityRules/delete`],
  'network.virtualNetworks.get': [`${N}/virtualNetworks/read`],
  'network.virtualNetworks.list': [`${N}/virtualNetworks/read`],
  // Project networks (a virtual network per network, its subnets inline, so one PUT sets them all) and
  // the isolated network of servers with networks "none" (network.ts ensureIsolatedSubnet: its subnet
  // carries the deny-all NSG).
  // A subnet naming a router's NAT gateway (shared/network/snat.ts) joins it.
  'network.virtualNetworks.createOrUpdate': [`${N}/virtualNetworks/write`, `${N}/virtualNetworks/subnets/write`, `${N}/networkSecurityGroups/join/action`, `${N}/natGateways/join/action`],
  // A router's SNAT (shared/network/snat.ts): the NAT gateway joins its public IP; the LRO ends with a
  // GET of the resource (the driver makes no other read of NAT gateways).
  'network.natGateways.createOrUpdate': [`${N}/natGateways/write`, `${N}/natGateways/read`, `${N}/publicIPAddresses/join/action`],
  'network.natGateways.delete': [`${N}/natGateways/delete`],
  // The network sweep (shared/timers/natGateways.ts) lists and re-reads them.
  'network.natGateways.list': [`${N}/natGateways/read`],
  'network.natGateways.get': [`${N}/natGateways/read`],
  'network.virtualNetworks.delete': [`${N}/virtualNetworks/delete`],
  // Peerings of project networks joined by a router (shared/network/peerings.ts): each side is written
  // on its own network and needs peer/action on the remote one (Azure's "Network Contributor" pair).
  'network.virtualNetworkPeerings.list': [`${N}/virtualNetworks/virtualNetworkPeerings/read`],
  'network.virtualNetworkPeerings.createOrUpdate': [`${N}/virtualNetworks/virtualNetworkPeerings/write`, `${N}/virtualNetworks/peer/action`],
  'network.virtualNetworkPeerings.delete': [`${N}/virtualNetworks/virtualNetworkPeerings/delete`],
  'network.subnets.createOrUpdate': [`${N}/virtualNetworks/subnets/write`, `${N}/networkSecurityGroups/join/action`],
  'network.subnets.get': [`${N}/virtualNetworks/subnets/read`],
  'network.subnets.list': [`${N}/virtualNetworks/subnets/read`],
  'network.publicIPAddresses.get': [`${N}/publicIPAddresses/read`],
  'network.publicIPAddresses.list': [`${N}/publicIPAddresses/read`],
  'network.publicIPAddresses.createOrUpdate': [`${N}/publicIPAddresses/write`, `${N}/publicIPAddresses/join/action`],
  'network.publicIPAddresses.delete': [`${N}/publicIPAddresses/delete`],
};

/** The SDK packages whose operation groups are ARM calls, by the name the driver's clients give them. */
const SDKS: Record<string, string> = { '@azure/arm-compute': 'compute', '@azure/arm-network': 'network' };

function tsFiles(dir: string): string[] {
  const abs = path.join(REPO_ROOT, dir);
  return readdirSync(abs).flatMap((n) => {
    const p = path.join(abs, n);
    if (statSync(p).isDirectory()) return tsFiles(path.join(dir, n));
    return n.endsWith('.ts') && !n.endsWith('.d.ts') ? [p] : [];
  });
}

export interface SdkCall {
  key: string;
  where: string;
}

/** Every SDK operation call in `dirs`: receiver typed by an operation group of an ARM SDK package. */
export function scanSdkCalls(dirs: readonly string[]): SdkCall[] {
  const files = dirs.flatMap(tsFiles);
  const cfg = ts.getParsedCommandLineOfConfigFile(path.join(REPO_ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(files, { ...cfg!.options, noEmit: true });
  const checker = program.getTypeChecker();
  const calls: SdkCall[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file)!;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const pa = node.expression;
        const recv = checker.getTypeAtLocation(pa.expression);
        const sym = recv.aliasSymbol ?? recv.getSymbol();
        const decl = sym?.declarations?.[0]?.getSourceFile().fileName.replace(/\\/g, '/');
        const pkg = decl && Object.keys(SDKS).find((p) => decl.includes(`/node_modules/${p}/`));
        // Operation groups are interfaces named like VirtualMachinesOperations (arm-compute) or NetworkInterfaces (arm-network).
        if (pkg && sym && !/Client$/.test(sym.name) && /^[A-Z]/.test(sym.name) && !/^(PagedAsyncIterableIterator|PollerLike|SimplePollerLike|Promise)$/.test(sym.name)) {
          const groupType = sym.name.replace(/Operations$/, '');
          const group = groupType[0].toLowerCase() + groupType.slice(1);
          const method = pa.name.text.replace(/^begin(?=[A-Z])/, '').replace(/AndWait$/, '');
          const m = method[0].toLowerCase() + method.slice(1);
          const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
          calls.push({ key: `${SDKS[pkg]}.${group}.${m}`, where: `${path.relative(REPO_ROOT, file)}:${line + 1}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return calls;
}

/**
 * Two roles, because ARM serves location-level reads (usages, VM sizes, image versions) under the
 * subscription, outside any resource group: `actions` is assigned on Jacket's resource group,
 * `regionalActions` (reads only) on the subscription. infra/main.bicep loads this file.
 */
const roleDoc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'infra/jacket-role.json'), 'utf8')) as { actions: string[]; regionalActions: string[] };
const role = { actions: [...roleDoc.actions, ...roleDoc.regionalActions] };

let scanned: SdkCall[] | undefined;
/** One scan for the file's tests (building the type checker takes seconds). */
const calls = () => (scanned ??= [...scanSdkCalls(SCANNED), ...RAW_ARM_OPERATIONS.map((key) => ({ key, where: 'shared/azure/vms.ts (raw request)' }))]);

test('the custom role holds exactly the ARM actions of the SDK calls the driver code makes', () => {
  const found = calls();
  assert.ok(found.length >= 10, `the scan found ${found.length} SDK calls: is it still looking at the driver code?`);
  const unmapped = found.filter((c) => !ACTIONS[c.key]);
  assert.deepEqual(unmapped, [], 'SDK calls missing from the ACTIONS table of test/unit/infra-role.test.ts');
  const needed = new Map<string, string[]>();
  for (const c of found) for (const a of ACTIONS[c.key]) needed.set(a, [...(needed.get(a) ?? []), `${c.key} (${c.where})`]);
  const missing = [...needed.keys()].filter((a) => !role.actions.includes(a)).map((a) => `${a} <- ${needed.get(a)!.join(', ')}`);
  assert.deepEqual(missing, [], 'actions the driver calls need but infra/jacket-role.json lacks');
  const unused = role.actions.filter((a) => !needed.has(a));
  assert.deepEqual(unused, [], 'actions infra/jacket-role.json grants but no driver call needs (least privilege: remove them)');
});

test('the subscription-scope role only reads locations; the resource-group role holds the rest', () => {
  for (const a of roleDoc.regionalActions) assert.match(a, /^Microsoft\.Compute\/locations\/.*\/read$/, a);
  for (const a of roleDoc.actions) assert.doesNotMatch(a, /\/locations\//, a);
});

test('the role is confined: Compute, Network and Storage actions only, no wildcard, no key listing', () => {
  for (const a of role.actions) {
    assert.match(a, /^Microsoft\.(Compute|Network|Storage)\//, a);
    assert.doesNotMatch(a, /\*/, a);
    assert.doesNotMatch(a, /listKeys|regeneratekey/i, a);
  }
});

test('the scan sees through aliases and LRO forms (begin…/…AndWait)', () => {
  const keys = new Set(calls().map((c) => c.key));
  // shared/compute/servers/actions/azureActions.ts: `const vms = compute.virtualMachines; vms.start(...)`
  // shared/timers/nics.ts: network.networkInterfaces.beginDeleteAndWait(...)
  for (const k of ['compute.virtualMachines.get', 'network.networkInterfaces.delete']) assert.ok(keys.has(k), `${k} not found by the scan`);
});
