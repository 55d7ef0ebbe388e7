// /flavors/{flavor_id}/os-extra_specs: Nova's flavor extra specs (flavors_extraspecs.py). Readers see the
// specs of flavors visible to them; admins set and unset them. From 2.86 the specs set are checked as
// Nova checks them (extraSpecValidators.ts: the known namespaces' names and values; others pass).
// `azure:vm_size` is the Azure size the flavor runs on: setting it is refused (400) unless the region
// offers that size (`azure` is no namespace Nova knows, so 2.86 passes it).
import type { RequestContext, Route } from '../../http/router';
import { json } from '../../http/respond';
import { badRequest, notFound } from '../../http/errors';
import { validateBody } from '../../api/validation';
import { computeRoute } from '../common';
import { getFlavor, getVisibleFlavor, updateFlavor, flavorNotFound, VM_SIZE_SPEC } from './store';
import { checkVmSizeOffered } from './vmSizes';
import { extraSpecProblem } from './extraSpecValidators';

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

/**
 * Nova's _check_extra_specs_value, spec by spec, before the flavor is looked up: a numeric value's text
 * within 255 characters (JSON Schema's maxLength skips numbers), then from 2.86 the spec against the
 * ones Nova knows (validators.validate; a number is checked as its text). Below 2.86 nothing more.
 */
function checkSpecs(ctx: RequestContext, specs: Specs): void {
  const validate = ctx.microversion?.atLeast('2.86') ?? false;
  for (const [name, v] of Object.entries(specs)) {
    const text = String(v);
    if (typeof v === 'number' && text.length > 255) throw badRequest('Invalid input received: extra_specs value has more than 255 characters.');
    const problem = validate ? extraSpecProblem(name, text) : undefined;
    if (problem) throw badRequest(problem);
  }
}

/** The flavor (404), then the Azure size a spec names, then the specs merged in. */
async function setSpecs(ctx: RequestContext, specs: Specs): Promise<void> {
  const id = ctx.params.flavor_id;
  if (!(await getFlavor(ctx.services, id))) throw flavorNotFound(id);
  const size = specs[VM_SIZE_SPEC];
  if (size !== undefined) await checkVmSizeOffered(ctx.services, String(size));
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
  checkSpecs(ctx, body.extra_specs);
  await setSpecs(ctx, body.extra_specs);
  return json(body);
}

async function update(ctx: RequestContext) {
  const body = validateBody<Specs>(updateSchema, ctx.body);
  // Nova checks the value before the key (and the flavor).
  checkSpecs(ctx, body);
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
