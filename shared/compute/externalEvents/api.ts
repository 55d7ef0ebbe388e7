// POST /os-server-external-events (nova/api/openstack/compute/server_external_events.py): how Neutron,
// Cinder and Cyborg tell Nova about a server. Policy: Nova's default is the service role; Jacket's rule
// vocabulary maps service_or_admin to admin (shared/compute/policy.ts). Each event answers its own code as
// Nova does: unknown server 404, an event that needs a tag without one 400, a server with no host yet
// (Nova's instance.host: the VM request has not reached Azure) 422, else 200; any failed event makes the
// whole answer 207. Nova then sends the accepted events to the instance's compute host; on Jacket there
// is nothing for that host to do (docs/servers.md, "External events"):
// - network-changed: Nova refreshes the instance's network info cache; Jacket renders addresses from its
//   own port records on every read, so there is no cache to refresh;
// - network-vif-plugged / -unplugged: Nova's virt driver waits for them while plugging VIFs; Azure
//   attaches a NIC within the VM's own ARM request, so no build or resize of Jacket waits for them;
// - network-vif-deleted: Nova detaches the interface; Jacket's Neutron is its own, and a port delete
//   already detaches the NIC there;
// - volume-extended (2.51), power-update (2.76), accelerator-request-bound (2.82), volume-reimaged (2.93):
//   accepted per their version's schema; Nova records an instance action for the first two (extend_volume,
//   with its compute_extend_volume event; start/stop from the power-update tag) and so does Jacket. Azure grows a disk in place and Jacket's
//   power state comes from Azure itself, so neither needs more; Jacket has no accelerators.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { schemaAt, validateBody, type SchemaByVersion } from '../../api/validation';
import { computeRoute } from '../common';
import { getServerAny } from '../servers/model';
import { finishAction, startAction } from '../servers/instanceActions';
import type { Services } from '../../services';
import { done, type WorkKind } from '../../work/types';
import { VOLUME_EXTENDED_EVENT_KIND } from '../../volume/computeApi';

const BASE = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted'];
const NAMES_BY_VERSION: readonly (readonly [string, string[]])[] = [
  ['2.1', BASE],
  ['2.51', [...BASE, 'volume-extended']],
  ['2.76', [...BASE, 'volume-extended', 'power-update']],
  ['2.82', [...BASE, 'volume-extended', 'power-update', 'accelerator-request-bound']],
  ['2.93', [...BASE, 'volume-extended', 'power-update', 'accelerator-request-bound', 'volume-reimaged']],
];
const schemaFor = (names: string[]) => ({
  type: 'object',
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          server_uuid: { type: 'string', format: 'uuid' },
          name: { type: 'string', enum: names },
          status: { type: 'string', enum: ['failed', 'completed', 'in-progress'] },
          tag: { type: 'string', maxLength: 255 },
        },
        required: ['name', 'server_uuid'],
        additionalProperties: false,
      },
    },
  },
  required: ['events'],
  additionalProperties: false,
});
/** server_external_events.create, create_v251, create_v276, create_v282, create_v293. */
export const createSchemas: SchemaByVersion = NAMES_BY_VERSION.map(([v, names]) => [v, schemaFor(names)] as const);

/** Nova's TAG_REQUIRED. */
const TAG_REQUIRED = new Set(['volume-extended', 'power-update', 'accelerator-request-bound']);

interface ExternalEvent {
  server_uuid: string;
  name: string;
  status?: string;
  tag?: string;
  code?: number;
}

/** The instance action Nova records for an accepted event (none for most). */
function actionOf(e: ExternalEvent): string | undefined {
  if (e.name === 'volume-extended') return 'extend_volume';
  if (e.name === 'power-update') return e.tag === 'POWER_ON' ? 'start' : e.tag === 'POWER_OFF' ? 'stop' : undefined;
  return undefined;
}

/** Nova's extend_volume instance action, its compute_extend_volume event ended Success. */
async function recordVolumeExtended(s: Services, owner: { id: string; project_id: string }, requestId: string, userId: string): Promise<void> {
  await finishAction(s, await startAction(s, owner, 'extend_volume', requestId, userId, 'compute_extend_volume'), true);
}

/**
 * The volume-extended event Jacket's Cinder sends after an attached volume grew (VOLUME_EXTENDED_EVENT_KIND;
 * item id: the server): taken as this API takes it — a server that is gone (404) or has no host yet
 * (422) gets nothing, else the instance action is recorded under the user who asked for the extend.
 * Azure grew the disk under the running VM; the guest sees the new size on its next rescan.
 */
export const volumeExtendedEventKind: WorkKind = {
  kind: VOLUME_EXTENDED_EVENT_KIND,
  async run(item, s) {
    const server = (await getServerAny(s, item.id))?.value;
    if (!server?.host) return done();
    await recordVolumeExtended(s, { id: server.id, project_id: server.project_id }, item.requestId ?? '', String(item.data?.user ?? ''));
    return done();
  },
  // Cinder only logs a notification Nova did not take (compute/nova.py _send_events).
  async giveUp() {},
};

async function create(ctx: RequestContext) {
  const events = validateBody<{ events: ExternalEvent[] }>(schemaAt(ctx.microversion, createSchemas), ctx.body).events;
  const ids = [...new Set(events.map((e) => e.server_uuid.toLowerCase()))];
  const servers = new Map((await Promise.all(ids.map((id) => getServerAny(ctx.services, id)))).filter((r) => r !== undefined).map((r) => [r.value.id, r.value]));
  let result = 200;
  const accepted: ExternalEvent[] = [];
  for (const e of events) {
    const server = servers.get(e.server_uuid.toLowerCase());
    if (!server) {
      Object.assign(e, { status: 'failed', code: 404 });
      result = 207;
    } else if (TAG_REQUIRED.has(e.name) && e.tag === undefined) {
      Object.assign(e, { status: 'failed', code: 400 });
      result = 207;
    } else if (server.host) {
      Object.assign(e, { status: 'completed', code: 200 });
      accepted.push(e);
    } else {
      Object.assign(e, { status: 'failed', code: 422 });
      result = 207;
    }
  }
  for (const e of accepted) {
    const action = actionOf(e);
    const server = servers.get(e.server_uuid.toLowerCase())!;
    // Nova's action_start(want_result=False): the caller's request, user and project. For
    // volume-extended the compute manager's extend_volume then runs under wrap_instance_event: its event
    // compute_extend_volume ends Success (Azure grew the disk in place; a volume not attached is a no-op).
    if (!action) continue;
    const owner = { id: server.id, project_id: ctx.auth!.projectId ?? server.project_id };
    if (action === 'extend_volume') await recordVolumeExtended(ctx.services, owner, ctx.requestId, ctx.auth!.userId);
    else await startAction(ctx.services, owner, action, ctx.requestId, ctx.auth!.userId, null);
  }
  return json({ events }, result);
}

export const serverExternalEventRoutes: Route[] = [computeRoute('server-external-events-create', 'POST', '/os-server-external-events', 'os_compute_api:os-server-external-events:create', create)];
