// /os-volumes_boot: Nova's old alias of /servers (volumes_boot.VolumesBootController is ServersController
// under another URL, kept for clients of the 2011 "boot from volume" extension). Same methods, policies,
// schemas and bodies — links in them still name /servers, as Nova's view builder writes them — up to
// 2.102; Nova removed the alias at 2.103 (a bare 404 from there), which Jacket does not advertise yet.
import type { Route } from '../../../http/router';
import { serverRoutes } from './servers';
import { serverActionRoutes } from '../actions';

/** The server paths Nova's alias covers, after the Compute prefix. */
const ALIASED = /^(\/compute\/v2\.1)\/servers((\/detail|\/\{server_id\}(\/action)?)?)$/;

export const volumesBootRoutes: Route[] = [...serverRoutes, ...serverActionRoutes]
  .filter((r) => ALIASED.test(r.path))
  .map((r) => ({
    ...r,
    name: r.name.replace('-servers-', '-volumes-boot-'),
    path: r.path.replace(ALIASED, '$1/os-volumes_boot$2'),
    versions: { ...r.versions, max: '2.102' },
  }));
