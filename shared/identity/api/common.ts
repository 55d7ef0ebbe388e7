// Shapes shared by the Keystone resource modules.
import type { JacketConfig } from '../../config';
import { routeMaker } from '../../http/router';
import type { IdentityPolicy } from '../policy';
import { odata } from '../../store/tables';
import { DEFAULT_DOMAIN } from '../model';
import { notFound } from '../../http/errors';

export const v3Url = (cfg: JacketConfig, path = '') => `${cfg.publicUrl}/identity/v3${path}`;

export function listLinks(cfg: JacketConfig, path: string) {
  return { self: v3Url(cfg, path), previous: null, next: null };
}

/** Keystone timestamps: microseconds and a Z. */
export const keystoneTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const identityRoute = routeMaker<IdentityPolicy>('identity', '/identity/v3');

/** Only the default domain exists; other names or ids are not found. */
export function resolveDomain(ref: { id?: string; name?: string } | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref.id !== undefined) return ref.id === DEFAULT_DOMAIN.id ? DEFAULT_DOMAIN.id : undefined;
  if (ref.name !== undefined) return ref.name === DEFAULT_DOMAIN.name ? DEFAULT_DOMAIN.id : undefined;
  return undefined;
}

export function domainOr404(id: string | undefined): string {
  const d = id ?? DEFAULT_DOMAIN.id;
  if (d !== DEFAULT_DOMAIN.id) throw notFound(`Could not find domain: ${d}.`);
  return d;
}

export function domainBody(cfg: JacketConfig) {
  return { ...DEFAULT_DOMAIN, tags: [], options: {}, links: { self: v3Url(cfg, `/domains/${DEFAULT_DOMAIN.id}`) } };
}

/** Keystone's list filters for projects and users (name, domain_id, enabled), as a table query. */
export function listFilter(q: URLSearchParams): string | undefined {
  const filters: string[] = [];
  if (q.has('name')) filters.push(odata`name_key eq ${q.get('name')!.toLowerCase()}`);
  if (q.has('domain_id')) filters.push(odata`domain_id eq ${q.get('domain_id')!}`);
  if (q.has('enabled')) filters.push(odata`enabled eq ${!['false', '0', 'no'].includes(q.get('enabled')!.toLowerCase())}`);
  return filters.length ? filters.join(' and ') : undefined;
}
