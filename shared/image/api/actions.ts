// Glance's image actions and the image's sub-resources beside its data: deactivate/reactivate
// (glance/api/v2/image_actions.py, domain Image.deactivate/reactivate), the schemas clients build
// their models from (../schemas.ts), and GET /v2/images/{id}/tasks.
import type { RequestContext, Route } from '../../http/router';
import { json, noContent } from '../../http/respond';
import { forbidden } from '../../http/errors';
import { ConcurrencyError } from '../../store/tables';
import { imageStore, glanceTime, type ImageStatus } from '../model';
import { imageSchema, imagesSchema } from '../schemas';
import { imageRoute, notAuthorized, visibleImage } from './common';

/**
 * active ⇄ deactivated. The other direction's state is a no-op (Glance: deactivating a deactivated
 * image, or reactivating an active one, answers 204 and changes nothing); any other status is 403
 * "Not allowed to <action> image in status '<status>'", Glance's Forbidden. A marketplace image is
 * Azure's catalog, not a record Jacket can change: 403 as for any change to it.
 */
function toggle(action: 'deactivate' | 'reactivate', from: ImageStatus, to: ImageStatus) {
  return async (ctx: RequestContext) => {
    for (let attempt = 0; ; attempt++) {
      const { image, etag } = await visibleImage(ctx);
      if (image.marketplace || !etag) throw notAuthorized(action);
      if (image.status === to) return noContent();
      if (image.status !== from) throw forbidden(`Not allowed to ${action} image in status '${image.status}'`);
      try {
        await imageStore(ctx.services).replace({ ...image, status: to, updated_at: glanceTime() }, etag);
        return noContent();
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || attempt >= 3) throw e;
      }
    }
  };
}

/**
 * The image's import tasks (Glance 2.12). Jacket runs no Glance tasks (uploads are synchronous
 * PUTs, there is no import API), so the list is empty for every image the caller may see.
 */
async function tasks(ctx: RequestContext) {
  await visibleImage(ctx);
  return json({ tasks: [] });
}

export const glanceImageActionRoutes: Route[] = [
  imageRoute('images-deactivate', 'POST', '/v2/images/{image_id}/actions/deactivate', 'deactivate', toggle('deactivate', 'active', 'deactivated')),
  imageRoute('images-reactivate', 'POST', '/v2/images/{image_id}/actions/reactivate', 'reactivate', toggle('reactivate', 'deactivated', 'active')),
  imageRoute('images-tasks', 'GET', '/v2/images/{image_id}/tasks', 'get_image', tasks),
  // Glance serves its schemas to any authenticated caller, without a policy of their own.
  imageRoute('schemas-image', 'GET', '/v2/schemas/image', 'authenticated', async () => json(imageSchema())),
  imageRoute('schemas-images', 'GET', '/v2/schemas/images', 'authenticated', async () => json(imagesSchema())),
];
