// /flavors/{flavor_id}/os-extra_specs: Nova's flavor extra specs (flavors_extraspecs.py). Readers see the
// specs of flavors visible to them; admins set and unset them. `azure:vm_size` is the Azure size the flavor
// runs on: setting it is refused (400) unless the region offers that size.
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { computeRoute } from '../common';
import { getFlavor, getVisibleFlavor, updateFlavor, flavorNotFound, VM_SIZE_SPEC } from './store';
import { checkVmSizeOffered } from './vmSizes';

const SPEC_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
const specValue = { type: ['string', 'number'], maxLength: 255 };

/** flavors_extraspecs.create */
export const createSchema = {
  type: 'object',
  properties: {
    extra_specs: { type: 'object', patternProperties: { [SPEC_KEY]: specValue }, additionalProperties: false },
  },
  required: ['extra_specs'],
  additionalProperties: false,
};

/** flavors_extraspecs.update: exactly one key, the one in the URL. */
export const updateSchema = {
  type: 'object',
  patternProperties: { [SPEC_KEY]: specValue },
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
};

type Specs = Record<string, string | number>;

const noSuchKey = (flavorId: string, key: string) => notFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);

/** Nova checks numeric values' length itself (JSON Schema's maxLength skips numbers); then the Azure size. */
async function checkValues(ctx: RequestContext, specs: Specs): Promise<void> {
  for (const v of Object.values(specs)) {
    if (typeof v === 'number' && String(v).length > 255) throw badRequest('Invalid input received: extra_specs value has more than 255 characters.');
  }
  const size = specs[VM_SIZE_SPEC];
  if (size !== undefined) await checkVmSizeOffered(ctx.services, String(size));
}

async function setSpecs(ctx: RequestContext, specs: Specs): Promise<void> {
  const id = ctx.params.flavor_id;
  if (!(await getFlavor(ctx.services, id))) throw flavorNotFound(id);
  await checkValues(ctx, specs);
  const now = new Date().toISOString();
  await updateFlavor(ctx.services, id, (f) => {
    for (const [k, v] of Object.entries(specs)) f.extra_specs[k] = String(v);
    f.updated_at = now;
    return f;
  });
}

async function index(ctx: RequestContext) {
  const f = await getVisibleFlavor(ctx, ctx.params.flavor_id);
  return json({ extra_specs: { ...f.value.extra_specs } });
}

async function show(ctx: RequestContext) {
  const f = await getVisibleFlavor(ctx, ctx.params.flavor_id);
  const key = ctx.params.id;
  if (!Object.prototype.hasOwnProperty.call(f.value.extra_specs, key)) throw noSuchKey(ctx.params.flavor_id, key);
  return json({ [key]: f.value.extra_specs[key] });
}

/** POST: merges the given specs into the flavor's; answers the request body, as Nova does (200). */
async function create(ctx: RequestContext) {
  const body = validateBody<{ extra_specs: Specs }>(createSchema, ctx.body);
  await setSpecs(ctx, body.extra_specs);
  return json(body);
}

async function update(ctx: RequestContext) {
  const body = validateBody<Specs>(updateSchema, ctx.body);
  if (!(ctx.params.id in body)) throw badRequest('Request body and URI mismatch');
  await setSpecs(ctx, body);
  return json(body);
}

/** DELETE answers 200 with no body (Nova's v2.1 quirk, kept for fidelity). */
async function remove(ctx: RequestContext) {
  const id = ctx.params.flavor_id;
  const key = ctx.params.id;
  const cur = await getFlavor(ctx.services, id);
  if (!cur) throw flavorNotFound(id);
  if (!Object.prototype.hasOwnProperty.call(cur.value.extra_specs, key)) throw noSuchKey(id, key);
  const now = new Date().toISOString();
  let missing = false;
  await updateFlavor(ctx.services, id, (f) => {
    if (!Object.prototype.hasOwnProperty.call(f.extra_specs, key)) {
      missing = true;
      return undefined;
    }
    delete f.extra_specs[key];
    f.updated_at = now;
    return f;
  });
  if (missing) throw noSuchKey(id, key);
  return { status: 200, headers: {}, body: undefined };
}

const P = 'os_compute_api:os-flavor-extra-specs';
export const flavorExtraSpecRoutes: Route[] = [
  computeRoute('flavor-extra-specs-list', 'GET', '/flavors/{flavor_id}/os-extra_specs', `${P}:index`, index),
  computeRoute('flavor-extra-specs-create', 'POST', '/flavors/{flavor_id}/os-extra_specs', `${P}:create`, create),
  computeRoute('flavor-extra-specs-show', 'GET', '/flavors/{flavor_id}/os-extra_specs/{id}', `${P}:show`, show),
  computeRoute('flavor-extra-specs-update', 'PUT', '/flavors/{flavor_id}/os-extra_specs/{id}', `${P}:update`, update),
  computeRoute('flavor-extra-specs-delete', 'DELETE', '/flavors/{flavor_id}/os-extra_specs/{id}', `${P}:delete`, remove),
];
