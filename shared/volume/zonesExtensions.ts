// /os-availability-zone and /extensions: Jacket's volumes live in one zone, Cinder's default `nova`
// (VOLUME_AZ); the extension list names only the Cinder extensions Jacket serves, with Cinder's own
// names, descriptions and dates.
import type { RequestContext, Route } from '../http/router';
import { json } from '../http/respond';
import { notFound } from '../http/errors';
import { cinderRoute } from './common';
import { VOLUME_AZ } from './volumes/service';

const zones = async () => json({ availabilityZoneInfo: [{ zoneName: VOLUME_AZ, zoneState: { available: true } }] });

/** `updated` is a date (midnight UTC, +00:00) or Cinder's whole timestamp where it writes -00:00. */
const ext = (alias: string, name: string, description: string, updated: string) => ({ alias, description, links: [], name, updated: updated.includes('T') ? updated : `${updated}T00:00:00+00:00` });

/** The served extensions (the others in Cinder's list need APIs Jacket does not offer). */
export const EXTENSIONS = [
  ext('os-vol-tenant-attr', 'VolumeTenantAttribute', 'Expose the internal project_id as an attribute of a volume.', '2011-11-03'),
  ext('os-quota-sets', 'Quotas', 'Quota management support.', '2011-08-08'),
  ext('os-quota-class-sets', 'QuotaClasses', 'Quota classes management support.', '2012-03-12'),
  ext('qos-specs', 'Qos_specs_manage', 'QoS specs support.', '2013-08-02'),
  ext('os-snapshot-actions', 'SnapshotActions', 'Enable snapshot manager actions.', '2013-07-16'),
  ext('os-availability-zone', 'AvailabilityZones', 'Describe Availability Zones.', '2013-06-27'),
  ext('backups', 'Backups', 'Backups support.', '2012-12-12'),
  ext('os-volume-actions', 'VolumeActions', 'Enable volume actions.', '2012-05-31'),
  ext('os-vol-host-attr', 'VolumeHostAttribute', 'Expose host as an attribute of a volume.', '2011-11-03'),
  ext('os-vol-image-meta', 'VolumeImageMetadata', 'Show image metadata associated with the volume.', '2012-12-07'),
  ext('os-types-manage', 'TypesManage', 'Types manage support.', '2011-08-24'),
  ext('os-types-extra-specs', 'TypesExtraSpecs', 'Type extra specs support.', '2011-08-24'),
  ext('os-used-limits', 'UsedLimits', 'Provide data on limited resources that are being used.', '2013-10-03'),
  ext('os-vol-mig-status-attr', 'VolumeMigStatusAttribute', 'Expose migration_status as an attribute of a volume.', '2013-08-08'),
  ext('os-extended-snapshot-attributes', 'ExtendedSnapshotAttributes', 'Extended SnapshotAttributes support.', '2012-06-19'),
  ext('os-volume-transfer', 'VolumeTransfer', 'Volume transfer management support.', '2013-05-29'),
  ext('os-admin-actions', 'AdminActions', 'Enable admin actions.', '2012-08-25'),
  ext('os-services', 'Services', 'Services support.', '2012-10-28T00:00:00-00:00'),
  ext('os-extended-services', 'ExtendedServices', 'Extended services support.', '2014-01-10T00:00:00-00:00'),
  ext('scheduler-stats', 'Scheduler_stats', 'Scheduler stats support.', '2014-09-07'),
  ext('capabilities', 'Capabilities', 'Capabilities support.', '2015-08-31'),
];

const list = async () => json({ extensions: EXTENSIONS });
const show = async (ctx: RequestContext) => {
  const e = EXTENSIONS.find((x) => x.alias === ctx.params.alias);
  if (!e) throw notFound('Extension not found.');
  return json({ extension: e });
};

export const zoneExtensionRoutes: Route[] = [
  cinderRoute('availability-zones', 'GET', '/os-availability-zone', 'authenticated', zones),
  cinderRoute('extensions-list', 'GET', '/extensions', 'authenticated', list),
  cinderRoute('extensions-show', 'GET', '/extensions/{alias}', 'authenticated', show),
];
