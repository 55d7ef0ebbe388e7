// Host aggregates (nova/compute/api.py AggregateAPI) for Jacket's single compute host. The controller is
// ./api.ts, the records ./model.ts.
//
// Availability zones: Jacket's zones are the Azure zones of the region (catalog.availability_zones,
// shared/compute/zones) and its one compute host serves all of them, placing each VM in the zone its
// server asks for. An aggregate may carry `availability_zone` metadata (Nova keeps it), but putting the
// compute host into an aggregate with a zone would move the host into that zone, which Azure cannot do:
// the host would still build in every zone. So that combination is refused with Nova's own
// InvalidAggregateAction errors (add_host 409, update and set_metadata 400), and os-availability-zone and
// server create go on reading only the configured zones. Aggregates without a zone take the host freely.
// docs/aggregates.md.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../services';
import { ApiError, conflict, notFound } from '../../http/errors';
import { listServices } from '../../servicegroup/registry';
import { claimName, createAggregate, deleteAggregate, getAggregate, naiveNow, NameTaken, releaseName, updateAggregate, type AggregateRecord } from './model';

export const aggregateNotFound = (id: number | string) => notFound(`Aggregate ${id} could not be found.`);
const nameExists = (name: string) => conflict(`Aggregate ${name} already exists.`);

/** Nova's "empty named availability zone" refusal; the reason of each InvalidAggregateAction. */
const emptyZone = (a: AggregateRecord) => `Aggregate ${a.name} does not support empty named availability zone`;
const zoneOnHost = (zone: string) =>
  `The availability zone ${zone} cannot be given to the compute host: Jacket's availability zones are the Azure zones of the region, all served by its one compute host`;

const actionError = (status: 400 | 409, verb: 'add' | 'update' | 'meta' | 'delete', id: number, reason: string) => {
  const head = { add: 'Cannot add host to aggregate', update: 'Cannot update aggregate', meta: 'Cannot update metadata of aggregate', delete: 'Cannot remove host from aggregate' }[verb];
  return new ApiError(status, `${head} ${id}. Reason: ${reason}.`);
};

/**
 * Nova's is_safe_to_update_az for Jacket: an empty zone name is refused; a zone on an aggregate that
 * holds the compute host is refused (see the header). Nova's "hosts already in another zone" conflict
 * cannot arise: no aggregate holding the host has a zone.
 */
function checkZoneChange(a: AggregateRecord, meta: Record<string, string | null>, status: 400 | 409, verb: 'add' | 'update' | 'meta', hosts = a.hosts) {
  if (!('availability_zone' in meta)) return;
  const zone = meta.availability_zone;
  if (!zone) throw actionError(status, verb, a.id, emptyZone(a));
  if (hosts.length > 0) throw actionError(status, verb, a.id, zoneOnHost(zone));
}

/** Nova's _get_service_in_cell_by_host: a registered nova-compute host, else ComputeHostNotFound (404). */
async function computeHost(s: Services, host: string): Promise<string> {
  const found = (await listServices(s, 'compute')).some((v) => v.binary === 'nova-compute' && v.host === host);
  if (!found) throw notFound(`Compute host ${host} could not be found.`);
  return host;
}

export async function create(s: Services, name: string, zone: string | null | undefined): Promise<AggregateRecord> {
  try {
    return await createAggregate(s, { uuid: randomUUID(), name, hosts: [], metadata: zone ? { availability_zone: zone } : {}, created_at: naiveNow(), updated_at: null });
  } catch (e) {
    if (e instanceof NameTaken) throw nameExists(name);
    throw e;
  }
}

export async function show(s: Services, id: number): Promise<AggregateRecord> {
  const a = await getAggregate(s, id);
  if (!a) throw aggregateNotFound(id);
  return a.value;
}

/** update_aggregate: the name (unique), then the zone as metadata under is_safe_to_update_az. */
export async function update(s: Services, id: number, values: { name?: string; availability_zone?: string | null }): Promise<AggregateRecord> {
  const before = await show(s, id);
  const { name, ...meta } = values;
  // Refused zone changes are refused before the name is claimed, so a 400 changes nothing.
  checkZoneChange(before, meta, 400, 'update');
  const rename = name !== undefined && name !== before.name;
  if (rename) {
    try {
      await claimName(s, name, id);
    } catch (e) {
      if (e instanceof NameTaken) throw nameExists(name);
      throw e;
    }
  }
  let oldName = before.name;
  let after: AggregateRecord | undefined;
  try {
    after = await updateAggregate(s, id, (a) => {
      checkZoneChange(a, meta, 400, 'update');
      oldName = a.name;
      if (name !== undefined) a.name = name;
      if (meta.availability_zone) a.metadata.availability_zone = meta.availability_zone;
      a.updated_at = naiveNow();
      return a;
    });
  } catch (e) {
    if (rename) await releaseName(s, name, id);
    throw e;
  }
  if (!after) {
    if (rename) await releaseName(s, name, id);
    throw aggregateNotFound(id);
  }
  if (rename && oldName !== name) await releaseName(s, oldName, id);
  return after;
}

/** update_aggregate_metadata: null values delete their key (absent keys are ignored, as Nova's). */
export async function setMetadata(s: Services, id: number, metadata: Record<string, string | null>): Promise<AggregateRecord> {
  const after = await updateAggregate(s, id, (a) => {
    checkZoneChange(a, metadata, 400, 'meta');
    for (const [k, v] of Object.entries(metadata)) {
      if (v === null) delete a.metadata[k];
      else a.metadata[k] = v;
    }
    a.updated_at = naiveNow();
    return a;
  });
  if (!after) throw aggregateNotFound(id);
  return after;
}

export async function remove(s: Services, id: number): Promise<void> {
  const gone = await deleteAggregate(s, id, (a) => {
    if (a.hosts.length > 0) throw actionError(400, 'delete', id, 'Host aggregate is not empty');
  });
  if (!gone) throw aggregateNotFound(id);
}

/** add_host_to_aggregate: the host first (404), then the aggregate (404), its zone (409), membership (409). */
export async function addHost(s: Services, id: number, host: string): Promise<AggregateRecord> {
  await computeHost(s, host);
  const after = await updateAggregate(s, id, (a) => {
    checkZoneChange(a, a.metadata, 409, 'add', [host]);
    if (a.hosts.includes(host)) throw conflict(`Aggregate ${id} already has host ${host}.`);
    a.hosts.push(host);
    return a;
  });
  if (!after) throw aggregateNotFound(id);
  return after;
}

/** remove_host_from_aggregate: every not-found answers Nova's one message. */
export async function removeHost(s: Services, id: number, host: string): Promise<AggregateRecord> {
  const missing = () => notFound(`Cannot remove host ${host} in aggregate ${id}`);
  try {
    await computeHost(s, host);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw missing();
    throw e;
  }
  const after = await updateAggregate(s, id, (a) => {
    if (!a.hosts.includes(host)) throw missing();
    a.hosts = a.hosts.filter((h) => h !== host);
    return a;
  });
  if (!after) throw missing();
  return after;
}
