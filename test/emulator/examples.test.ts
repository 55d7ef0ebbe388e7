/**
 * Replays the x-ms-examples of the spec operations the emulator serves: each example request (with its
 * placeholders filled and its referenced resources created first) must be accepted with one of the
 * example's status codes, its long-running operation must succeed, and every response must validate.
 * Examples the emulator knowingly refuses are listed with the ARM error it answers instead.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { examplePath, exampleBody, loadExamples, SpecExample } from '../../emulator/spec/examples';
import { parseResourceId } from '../../emulator/arm/ids';
import { vhdFooter } from '../../emulator/storage/vhd';
import { defaultSeed, MarketplaceImageSeed, VmSizeSeed } from '../../emulator/config';
import { armRequest, startHarness, Harness, RawResponse } from './harness';
import { specValidator } from './specCheck';

const LOCATION = 'westus';

/** Examples the emulator refuses on purpose, with the error it answers and why. */
const EXPECTED_REFUSALS: Record<string, { status: number; code: string; why: string }> = {
  'Create a platform-image vm with unmanaged os and data disks.': {
    status: 400,
    code: 'InvalidParameter',
    why: 'unmanaged (VHD blob) VM disks are retired in Azure; the emulator serves managed disks only',
  },
  "Create a vm with data disks using 'Copy' and 'Restore' options.": { status: 400, code: 'InvalidParameter', why: 'createOption Restore (disk restore points) is not emulated' },
  'Create a VM with network interface configuration': { status: 400, code: 'InvalidParameter', why: 'networkInterfaceConfigurations (NICs created by the VM) are not emulated' },
  VirtualMachine_Capture_MaximumSet_Gen: { status: 404, code: 'InvalidResourceType', why: 'capture (unmanaged VHD capture) is not emulated' },
  VirtualMachine_Capture_MinimumSet_Gen: { status: 404, code: 'InvalidResourceType', why: 'capture (unmanaged VHD capture) is not emulated' },
  VirtualMachineExtension_CreateOrUpdate_MaximumSet_Gen: { status: 404, code: 'ArtifactNotFound', why: 'the example names a made-up handler (extPublisher/extType), which Azure does not have either' },
  'Update VM extension.': { status: 404, code: 'ArtifactNotFound', why: 'the example names a made-up handler (extPublisher/extType), which Azure does not have either' },
  VirtualMachineExtension_CreateOrUpdate_MinimumSet_Gen: {
    status: 400,
    code: 'InvalidParameter',
    why: 'the example names no handler (publisher, type, typeHandlerVersion), so there is nothing to install',
  },
  'Reimage a Non-Ephemeral Virtual Machine.': { status: 404, code: 'PlatformImageNotFound', why: "the example asks for image version 'aaaaaa', which the marketplace does not have" },
};

let h: Harness;
const { examples } = loadExamples(specValidator());

function collect(node: unknown, key: string, out: unknown[]): void {
  if (Array.isArray(node)) node.forEach((n) => collect(n, key, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
}

function seedFor(all: SpecExample[]) {
  const seed = defaultSeed();
  const rgs = new Set(seed.resourceGroups);
  const sizes = new Set<string>();
  const images: any[] = [];
  for (const ex of all) {
    if (typeof ex.parameters.resourceGroupName === 'string') rgs.add(ex.parameters.resourceGroupName);
    const ids: unknown[] = [];
    collect(ex.parameters, 'id', ids);
    for (const id of ids) {
      const p = typeof id === 'string' ? parseResourceId(fill(id)) : undefined;
      if (p) rgs.add(p.resourceGroup);
    }
    const s: unknown[] = [];
    collect(ex.parameters, 'vmSize', s);
    s.forEach((x) => typeof x === 'string' && sizes.add(x));
    collect(ex.parameters, 'imageReference', images);
  }
  for (const name of sizes) {
    if (!seed.vmSizes.some((v) => v.name === name)) {
      const size: VmSizeSeed = { name, numberOfCores: 2, memoryInMB: 4096, maxDataDiskCount: 16, osDiskSizeInMB: 1047552, resourceDiskSizeInMB: 8192, family: 'exampleFamily' };
      seed.vmSizes.push(size);
    }
  }
  for (const raw of images) {
    const ir = raw ? JSON.parse(JSON.stringify(raw)) : raw;
    if (!ir?.publisher) continue;
    for (const k of ['publisher', 'offer', 'sku', 'version']) if (typeof ir[k] === 'string') ir[k] = fill(ir[k]);
    const existing = seed.marketplaceImages.find((i) => i.publisher === ir.publisher && i.offer === ir.offer && i.sku === ir.sku);
    const version = ir.version && ir.version !== 'latest' ? ir.version : '1.0.0';
    if (existing) {
      if (!existing.versions.includes(version)) existing.versions.push(version);
      continue;
    }
    const win = /windows/i.test(`${ir.publisher} ${ir.offer}`);
    const img: MarketplaceImageSeed = {
      publisher: ir.publisher,
      offer: ir.offer,
      sku: ir.sku,
      versions: [version],
      osType: win ? 'Windows' : 'Linux',
      hyperVGeneration: 'V1',
      osDiskSizeGB: win ? 127 : 30,
    };
    seed.marketplaceImages.push(img);
  }
  seed.resourceGroups = [...rgs];
  seed.coresQuota = 10000;
  return seed;
}

/** Fills the examples' placeholders: {your-password}, {subscription-id}, {existing-nic-name}... */
function fill(s: string): string {
  return s
    .replace(/\{your-password\}/g, 'Example-Pass-123')
    .replace(/\{your-custom-data\}/g, Buffer.from('#cloud-config').toString('base64'))
    .replace(/^subscriptions\//i, '/subscriptions/')
    .replace(/\/subscriptions\/[^/]+\//gi, `/subscriptions/${h?.subscriptionId ?? '00000000-0000-0000-0000-000000000000'}/`)
    .replace(/\{([^}]+)\}/g, '$1');
}

function rewrite(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, parentKey));
  if (node && typeof node === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) o[k] = rewrite(v, k);
    return o;
  }
  if (typeof node !== 'string') return node;
  if (parentKey === 'location') return LOCATION;
  if (/^https?:\/\/[^/]*blob\.core\.windows\.net/i.test(node)) {
    const u = new URL(fill(node));
    return `${h.azurite.blobEndpoint}${u.pathname}`;
  }
  return fill(node);
}

const API: Record<string, string> = {};

async function put(path: string, body: unknown, api: string): Promise<RawResponse> {
  const r = await armRequest(h, 'PUT', `${path}?api-version=${api}`, body);
  await settle(r);
  return r;
}

/** Waits for the LRO of a response (if any) and returns its terminal status. */
async function settle(r: RawResponse): Promise<string | undefined> {
  const url = r.headers['azure-asyncoperation'];
  if (typeof url !== 'string') return undefined;
  for (let i = 0; i < 100; i++) {
    const u = new URL(url);
    const st = await armRequest(h, 'GET', `${u.pathname}${u.search}`);
    if (st.body?.status && st.body.status !== 'InProgress') return st.body.status;
    await new Promise((res) => setTimeout(res, 20));
  }
  return 'Timeout';
}

const COMPUTE = '2026-03-01';
const DISK = '2025-01-02';
const NETWORK = '2025-05-01';

/** Creates the resource an id names (and what it needs), unless it exists. */
async function ensure(id: string): Promise<void> {
  const p = parseResourceId(id);
  if (!p) return;
  const type = `${p.provider}/${p.type}`.toLowerCase();
  const base = `/subscriptions/${h.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/${p.provider}`;
  const [name, child] = p.name.split('/');
  const exists = async (path: string, api: string) => (await armRequest(h, 'GET', `${path}?api-version=${api}`)).status === 200;
  switch (type) {
    case 'microsoft.network/networkinterfaces': {
      const path = `${base}/networkInterfaces/${name}`;
      if (!(await exists(path, NETWORK))) await put(path, { location: LOCATION, properties: { ipConfigurations: [{ name: 'ipconfig1', properties: { subnet: { id: h.subnetId } } }] } }, NETWORK);
      return;
    }
    case 'microsoft.network/networksecuritygroups': {
      const path = `${base}/networkSecurityGroups/${name}`;
      if (!(await exists(path, NETWORK))) await put(path, { location: LOCATION, properties: {} }, NETWORK);
      return;
    }
    case 'microsoft.network/publicipaddresses': {
      const path = `${base}/publicIPAddresses/${name}`;
      if (!(await exists(path, NETWORK))) await put(path, { location: LOCATION, sku: { name: 'Standard' }, properties: { publicIPAllocationMethod: 'Static' } }, NETWORK);
      return;
    }
    case 'microsoft.network/virtualnetworks':
    case 'microsoft.network/virtualnetworks/subnets': {
      const path = `${base}/virtualNetworks/${name}`;
      const got = await armRequest(h, 'GET', `${path}?api-version=${NETWORK}`);
      const subnets = got.status === 200 ? got.body.properties.subnets.map((s: any) => ({ name: s.name, properties: { addressPrefix: s.properties.addressPrefix } })) : [];
      if (child && !subnets.some((s: any) => s.name === child)) subnets.push({ name: child, properties: { addressPrefix: `10.9.${subnets.length}.0/24` } });
      if (got.status !== 200 || child) await put(path, { location: LOCATION, properties: { addressSpace: { addressPrefixes: ['10.9.0.0/16'] }, subnets } }, NETWORK);
      return;
    }
    case 'microsoft.compute/disks': {
      const path = `${base}/disks/${name}`;
      if (!(await exists(path, DISK))) await put(path, { location: LOCATION, properties: { creationData: { createOption: 'Empty' }, diskSizeGB: 1, osType: 'Windows' } }, DISK);
      return;
    }
    case 'microsoft.compute/snapshots': {
      const path = `${base}/snapshots/${name}`;
      if (await exists(path, DISK)) return;
      const src = `${base}/disks/${name}-source`;
      await ensure(src);
      await put(path, { location: LOCATION, properties: { creationData: { createOption: 'Copy', sourceResourceId: src } } }, DISK);
      return;
    }
    case 'microsoft.compute/images': {
      const path = `${base}/images/${name}`;
      if (await exists(path, COMPUTE)) return;
      const src = `${base}/disks/${name}-source`;
      await ensure(src);
      await put(path, { location: LOCATION, properties: { storageProfile: { osDisk: { osType: 'Windows', osState: 'Generalized', managedDisk: { id: src } } } } }, COMPUTE);
      return;
    }
    case 'microsoft.compute/virtualmachines': {
      const path = `${base}/virtualMachines/${name}`;
      if (!(await exists(path, COMPUTE))) {
        const nic = `${base.replace('Microsoft.Compute', 'Microsoft.Network')}/networkInterfaces/${name}-prereq-nic`;
        await ensure(nic);
        await put(
          path,
          {
            location: LOCATION,
            properties: {
              hardwareProfile: { vmSize: 'Standard_B1s' },
              storageProfile: { imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' }, osDisk: { createOption: 'FromImage' } },
              osProfile: { computerName: name.slice(0, 15), adminUsername: 'your-username', adminPassword: 'Example-Pass-123' },
              networkProfile: { networkInterfaces: [{ id: nic }] },
              diagnosticsProfile: { bootDiagnostics: { enabled: true } },
            },
          },
          COMPUTE,
        );
      }
      return;
    }
    case 'microsoft.compute/virtualmachines/extensions': {
      await ensure(`${base}/virtualMachines/${name}`);
      const path = `${base}/virtualMachines/${name}/extensions/${child}`;
      if (!(await exists(path, COMPUTE))) {
        await put(path, { location: LOCATION, properties: { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript', typeHandlerVersion: '2.1' } }, COMPUTE);
      }
      return;
    }
    default:
      return; // availability sets, key vaults, restore points...: not emulated
  }
}

/** Page blobs that example bodies import from (sourceUri/blobUri). */
async function ensureBlobs(body: unknown): Promise<void> {
  const uris: unknown[] = [];
  collect(body, 'sourceUri', uris);
  collect(body, 'blobUri', uris);
  for (const uri of uris) {
    if (typeof uri !== 'string' || !uri.startsWith(h.azurite.blobEndpoint)) continue;
    const [container, ...rest] = uri.slice(h.azurite.blobEndpoint.length + 1).split('/');
    const c = h.blob.getContainerClient(container);
    await c.createIfNotExists();
    const pb = c.getPageBlobClient(rest.join('/'));
    if (await pb.exists()) continue;
    await pb.create(1024 * 1024 + 512);
    await pb.uploadPages(vhdFooter(1024 * 1024), 1024 * 1024, 512);
  }
}

/** Per-example state an operation needs beyond existence (e.g. generalize needs a stopped VM). */
async function prepareState(ex: SpecExample, path: string): Promise<void> {
  const id = ex.operation.operationId;
  if (id === 'VirtualMachines_Update') {
    // the VM the example updates, as the example describes it (its data disks not yet detached)
    const body = rewrite(exampleBody(ex)) as any;
    const props = JSON.parse(JSON.stringify(body.properties));
    for (const d of props.storageProfile?.dataDisks ?? []) delete d.toBeDetached;
    await armRequest(h, 'DELETE', `${path}?api-version=${COMPUTE}`).then(settle);
    await put(path, { location: LOCATION, properties: props }, COMPUTE);
  }
  if (id === 'VirtualMachines_Deallocate' && ex.parameters.hibernate === true) {
    await settle(await armRequest(h, 'PATCH', `${path.replace(/\/deallocate$/, '')}?api-version=${COMPUTE}`, { properties: { additionalCapabilities: { hibernationEnabled: true } } }));
  }
  if (id === 'VirtualMachines_Generalize') await settle(await armRequest(h, 'POST', `${path.replace(/\/generalize$/, '')}/powerOff?api-version=${COMPUTE}`));
  if (id === 'Images_CreateOrUpdate') {
    const vmIds: unknown[] = [];
    collect(exampleBody(ex), 'sourceVirtualMachine', vmIds);
    for (const ref of vmIds as any[]) {
      const vmPath = rewrite(ref.id) as string;
      await settle(await armRequest(h, 'POST', `${vmPath}/powerOff?api-version=${COMPUTE}`));
      await armRequest(h, 'POST', `${vmPath}/generalize?api-version=${COMPUTE}`);
    }
  }
}

before(async () => {
  h = await startHarness({ location: LOCATION, seed: seedFor(examples), nicReservationMs: 0 });
});
after(async () => {
  await h?.stop();
});

describe('spec examples are accepted and their responses validate', () => {
  for (const ex of examples) {
    it(`${ex.operation.operationId}: ${ex.title}`, async () => {
      await h.control.reset();
      const params = ex.parameters;
      const api = String(params['api-version']);
      API[ex.operation.operationId] = api;
      const path = fill(examplePath(ex, { subscriptionId: h.subscriptionId, location: LOCATION }).replace(/%7B/gi, '{').replace(/%7D/gi, '}'));
      const body = rewrite(exampleBody(ex));
      // prerequisites: the target (for anything but a create) and every resource the body references
      const targetPath = path.replace(/\/(start|restart|powerOff|deallocate|redeploy|reimage|generalize|instanceView|vmSizes|retrieveBootDiagnosticsData|capture|beginGetAccess|endGetAccess)$/i, '');
      if (parseResourceId(targetPath) && ex.operation.method !== 'PUT') await ensure(targetPath);
      const parent = targetPath.replace(/\/[^/]+\/[^/]+$/, '');
      if (ex.operation.method === 'PUT' && parseResourceId(parent) && /\/providers\/[^/]+\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/.test(targetPath)) await ensure(parent);
      const ids: unknown[] = [];
      collect(body, 'id', ids);
      collect(body, 'sourceResourceId', ids);
      for (const id of ids) if (typeof id === 'string' && id.toLowerCase() !== path.toLowerCase()) await ensure(id);
      await ensureBlobs(body);
      await prepareState(ex, path);
      if (ex.operation.operationId === 'Disks_RevokeAccess' || ex.operation.operationId === 'Snapshots_RevokeAccess') {
        await settle(await armRequest(h, 'POST', `${path.replace(/endGetAccess$/, 'beginGetAccess')}?api-version=${api}`, { access: 'Read', durationInSeconds: 60 }));
      }
      const query = Object.entries(params)
        .filter(([k, v]) => !['subscriptionId', 'resourceGroupName', 'api-version'].includes(k) && typeof v !== 'object' && !ex.operation.template.includes(`{${k}}`))
        .map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('');
      const r = await armRequest(h, ex.operation.method, `${path}?api-version=${api}${query}`, body);
      const refusal = EXPECTED_REFUSALS[ex.title];
      if (refusal) {
        assert.equal(r.status, refusal.status, JSON.stringify(r.body));
        assert.equal(r.body?.error?.code, refusal.code, JSON.stringify(r.body));
      } else {
        assert.ok(Object.keys(ex.responses).includes(String(r.status)), `status ${r.status} not among the example's ${Object.keys(ex.responses).join(', ')}: ${JSON.stringify(r.body)}`);
        const final = await settle(r);
        if (final !== undefined) assert.equal(final, 'Succeeded');
      }
      const report = specValidator().validateRecorded(await h.control.requests());
      assert.deepEqual(report.failures, []);
      assert.deepEqual(
        report.unmatched.filter((u) => !refusal),
        [],
      );
    });
  }
});
