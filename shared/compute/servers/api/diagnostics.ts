// GET /servers/{server_id}/diagnostics (nova/api/openstack/compute/server_diagnostics.py) at 2.1: admin
// only; Nova answers with the virt driver's own dict (libvirt: cpu0_time, memory, vda_read, ...). The
// Azure "driver" reports what ARM's instance view tells: size, CPUs, memory, OS, agent, disks and NICs
// (Azure keeps no per-device counters there; Azure Monitor metrics are not read). A server whose VM is
// not running is Nova's 409 for get_diagnostics; one that never reached Azure, 409 not ready.
// From 2.48 Nova answers the standardized form, whose `driver` must be ironic, libvirt, vmwareapi or
// xenapi: none is Azure, so past the same checks Jacket answers as Nova does for a virt driver lacking
// get_instance_diagnostics (NotImplementedError -> raise_feature_not_supported, 501).
import type { RequestContext, Route } from '../../../http/router';
import { json } from '../../../http/respond';
import { conflict, notImplemented } from '../../../http/errors';
import { computeRoute } from '../../common';
import { visibleServer } from '../model';
import { novaMac } from '../views';

/** nova/compute/power_state.py STATE_MAP names for Azure's PowerState/<x>. */
const POWER_NAMES: Record<string, string> = { running: 'running', starting: 'running', stopping: 'shutdown', stopped: 'shutdown', deallocating: 'shutdown', deallocated: 'shutdown' };

async function diagnostics(ctx: RequestContext) {
  const srv = (await visibleServer(ctx)).value;
  if (!srv.host) throw conflict(`Instance ${srv.id} is not ready`);
  const vm = await ctx.services.azure.vms.vm(srv.azure.vm);
  const power = vm?.powerState;
  if (!vm || power !== 'running') {
    throw conflict(`Cannot 'get_diagnostics' instance ${srv.id} while it is in power_state ${POWER_NAMES[power ?? ''] ?? 'pending'}`);
  }
  if (ctx.microversion?.atLeast('2.48')) throw notImplemented('The requested functionality is not supported.');
  const body: Record<string, unknown> = {
    driver: 'azure',
    state: 'running',
    num_cpus: srv.flavor.vcpus,
    // libvirt's 'memory' is KiB.
    memory: srv.flavor.ram * 1024,
    num_disks: vm.guest.disks.length,
    num_nics: srv.nics.length,
    vm_size: vm.vmSize,
    provisioning_state: vm.provisioningState,
    os_name: vm.guest.osName ?? null,
    os_version: vm.guest.osVersion ?? null,
    hyper_v_generation: vm.guest.hyperVGeneration ?? null,
    vm_agent_version: vm.guest.agentVersion ?? null,
    vm_agent_status: vm.agentReady ? 'Ready' : (vm.agentStatus ?? 'Not Ready'),
    config_drive: srv.config_drive === 'True',
  };
  vm.guest.disks.forEach((d, i) => (body[`disk${i}_name`] = d));
  srv.nics.forEach((n, i) => (body[`nic${i}_mac_address`] = n.mac ? novaMac(n.mac) : null));
  return json(body);
}

export const serverDiagnosticsRoutes: Route[] = [computeRoute('server-diagnostics', 'GET', '/servers/{server_id}/diagnostics', 'os_compute_api:os-server-diagnostics', diagnostics)];
