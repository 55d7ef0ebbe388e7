// Shapes shared by the Glance modules: routes under /image, Glance's wording for refusals.
import { routeMaker, type RequestContext } from '../../http/router';
import { forbidden, notFound } from '../../http/errors';
import { imageStore, type ImageRecord } from '../model';
import type { ImagePolicy } from '../policy';

export const IMAGE_PREFIX = '/image';

/** A Glance route: path below /image, with Glance's policy name. */
export const imageRoute = routeMaker<ImagePolicy>('image', IMAGE_PREFIX);

/** Glance's policy refusal (glance/api/v2/policy.py). */
export const notAuthorized = (action: string) => forbidden(`You are not authorized to complete ${action} action.`);

export const imageNotFound = (id: string) => notFound(`No image found with ID ${id}`);

/** The image the caller may see, or Glance's 404. */
export async function visibleImage(ctx: RequestContext, id = ctx.params.image_id): Promise<{ image: ImageRecord; etag?: string }> {
  const found = await imageStore(ctx.services).visible(ctx.auth!, id);
  if (!found) throw imageNotFound(id);
  return found;
}
