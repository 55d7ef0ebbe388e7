// os-instance-actions at 2.1 (nova/api/openstack/compute/instance_actions.py): the actions recorded on
// a server, newest first, and one action by request id with its events for admins
// (os_compute_api:os-instance-actions:events; non-admins see events only from 2.51). Below 2.21 the
// server must still exist (404 once deleted), as Nova reads it without read_deleted; from 2.21 a deleted
// server's actions are read too (Nova's read_deleted='yes'), its project still deciding who sees them.
// From 2.58 the list pages (limit, marker = a request id) and filters on changes-since, and every action
// carries updated_at (the time its last event finished). From 2.62 events carry hostId, and host for
// callers passing os-instance-actions:events. From 2.66 the list also filters on changes-before. From
// 2.84 events carry details (the failure's message) for callers passing os-instance-actions:events:details.
import type { RequestContext, Route } from '../../../http/router';
import { json } from '../../../http/respond';
import { ApiError, badRequest, notFound } from '../../../http/errors';
import { allowed, isAdmin } from '../../../api/policy';
import { validateQuery } from '../../../api/validation';
import { nextLinks, MAX_LIMIT } from '../../../api/pagination';
import { CHANGES_ORDER, computeRoute, computeUrl, QUERY_PARAM } from '../../common';
import type { Microversion } from '../../../api/microversion';
import { visibleServer } from '../model';
import { deletedServerProject, eventDetails, eventHost, getAction, listActions, type InstanceActionRecord } from '../instanceActions';
import { hostId } from '../views';

/** Nova's instance action times: the naive UTC datetime's isoformat() (microseconds, no zone). */
const actionTime = (t: string | null) =>
  t
    ? t
        .replace(/Z$/, '')
        .replace(/\.(\d{3})$/, '.$1000')
        .replace(/(T\d\d:\d\d:\d\d)$/, '$1.000000')
    : null;

/** ACTION_KEYS, and ACTION_KEYS_V258 (updated_at) from 2.58. */
function actionView(a: InstanceActionRecord, mv: Microversion | undefined) {
  return {
    action: a.action,
    instance_uuid: a.instance_uuid,
    request_id: a.request_id,
    user_id: a.user_id,
    project_id: a.project_id,
    start_time: actionTime(a.start_time),
    message: a.message,
    ...(mv?.atLeast('2.58') ? { updated_at: actionTime(a.updated_at) } : {}),
  };
}

/** instance_actions.index_query_v258. */
const indexQueryV258 = {
  type: 'object',
  properties: { limit: QUERY_PARAM.limit, marker: QUERY_PARAM.marker, 'changes-since': QUERY_PARAM.changesSince },
  additionalProperties: false,
};
/** instance_actions.index_query_v266: and changes-before. */
const indexQueryV266 = { ...indexQueryV258, properties: { ...indexQueryV258.properties, 'changes-before': QUERY_PARAM.changesSince } };

/** The server's id: a live one (any version), or from 2.21 a deleted one of the caller's project (admins: any). */
async function serverId(ctx: RequestContext): Promise<string> {
  try {
    return (await visibleServer(ctx)).value.id;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !ctx.microversion?.atLeast('2.21')) throw e;
    const project = await deletedServerProject(ctx.services, ctx.params.server_id);
    if (project === undefined || (!isAdmin(ctx.auth!) && project !== ctx.auth!.projectId)) throw e;
    return ctx.params.server_id.toLowerCase();
  }
}

async function index(ctx: RequestContext) {
  const mv = ctx.microversion;
  if (!mv?.atLeast('2.58')) {
    const actions = await listActions(ctx.services, await serverId(ctx));
    return json({ instanceActions: actions.map((a) => actionView(a, mv)) });
  }
  // Nova validates the query before the handler runs (400 before the server's 404).
  const q = validateQuery(mv.atLeast('2.66') ? indexQueryV266 : indexQueryV258, ctx.query);
  const id = await serverId(ctx);
  const limit = Math.min(q.limit ? Number(q.limit[0]) : MAX_LIMIT, MAX_LIMIT);
  const marker = q.marker?.[0];
  const since = q['changes-since'] ? Date.parse(q['changes-since'][0]) : undefined;
  // 2.66: updated_at <= changes-before, which may not come before changes-since (checked once the server is found, as Nova).
  const until = q['changes-before'] ? Date.parse(q['changes-before'][0]) : undefined;
  if (since !== undefined && until !== undefined && until < since) throw badRequest(CHANGES_ORDER);
  // db actions_get: newest first (created_at, id desc: the rows' order), updated_at >= changes-since,
  // the page after the marker's position.
  const all = await listActions(ctx.services, id);
  let from = 0;
  if (marker !== undefined) {
    const i = all.findIndex((a) => a.request_id === marker);
    // Nova's actions_get reassigns `marker` to the lookup's result before raising, so its message says None.
    if (i < 0) throw badRequest('Marker None could not be found.');
    from = i + 1;
  }
  const page =
    limit === 0
      ? []
      : all
          .slice(from)
          .filter((a) => since === undefined || Date.parse(a.updated_at) >= since)
          .filter((a) => until === undefined || Date.parse(a.updated_at) <= until)
          .slice(0, limit);
  const links = nextLinks(
    computeUrl(ctx, `/servers/${id}/os-instance-actions`),
    ctx.query,
    page.map((a) => ({ id: a.request_id })),
    { limit, marker },
  );
  return json({ instanceActions: page.map((a) => actionView(a, mv)), ...(links ? { links } : {}) });
}

async function show(ctx: RequestContext) {
  const a = await getAction(ctx.services, await serverId(ctx), ctx.params.request_id);
  if (!a) throw notFound(`Action ${ctx.params.request_id} not found`);
  const v: Record<string, unknown> = actionView(a, ctx.microversion);
  // Nova: callers passing os-instance-actions:events see the events with their traceback at every
  // version; from 2.51 everyone else sees them too, without the traceback. From 2.62 every event
  // carries hostId (sha224 of the action's project + the event's host, '' without a host) and those
  // callers also see the host itself.
  const allEvents = allowed(ctx, 'os_compute_api:os-instance-actions:events', { projectId: a.project_id });
  const v262 = ctx.microversion?.atLeast('2.62');
  if (allEvents || ctx.microversion?.atLeast('2.51')) {
    // 2.84: each event's details (the failure's message, null for one that did not fail) for callers
    // passing os-instance-actions:events:details (admin) on the action's project.
    const details = ctx.microversion?.atLeast('2.84') && allowed(ctx, 'os_compute_api:os-instance-actions:events:details', { projectId: a.project_id });
    v.events = a.events.map((e) => {
      // Rows written before events recorded a host ran on the same one host.
      const host = e.host === undefined ? eventHost(ctx.services) : e.host;
      return {
        event: e.event,
        start_time: actionTime(e.start_time),
        finish_time: actionTime(e.finish_time),
        result: e.result,
        ...(allEvents ? { traceback: e.traceback } : {}),
        ...(allEvents && v262 ? { host } : {}),
        ...(v262 ? { hostId: hostId({ project_id: a.project_id, host }) } : {}),
        ...(details ? { details: eventDetails(e) } : {}),
      };
    });
  }
  return json({ instanceAction: v });
}

export const instanceActionRoutes: Route[] = [
  computeRoute('server-actions-list', 'GET', '/servers/{server_id}/os-instance-actions', 'os_compute_api:os-instance-actions:list', index),
  computeRoute('server-actions-show', 'GET', '/servers/{server_id}/os-instance-actions/{request_id}', 'os_compute_api:os-instance-actions:show', show),
];
