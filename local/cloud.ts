// The local cloud: Azurite, the ARM emulator and the app host, wired together on loopback.
// `npm start` (local/start.ts) and the end-to-end tests (test/e2e/harness.ts) both start it from here.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../shared/config';
import { createServices, type Services } from '../shared/services';
import { startAzurite, type RunningAzurite } from './azurite';
import { startHost, type LocalHost } from './host';

export interface LocalCloudOptions {
  port?: number;
  adminPassword?: string;
  /** Extra settings (environment-style) layered over the defaults. */
  settings?: Record<string, string>;
  /** An ARM endpoint to use (the emulator's URL), if one is running. */
  armEndpoint?: string;
  dispatch?: boolean;
  /** Run the timer functions on their schedules (local/scheduler.ts); off by default. */
  timers?: boolean;
  /** Azurite's data directory and account key (`npm start` keeps them in .local/); in memory by default. */
  azurite?: { location?: string; key?: string };
  /**
   * Starts something that needs Azurite before the app does (the ARM emulator keeps disk bytes in
   * Azurite) and returns the settings that point the app at it.
   */
  beforeHost?: (azurite: RunningAzurite) => Promise<{ settings: Record<string, string>; stop(): Promise<void>; describe?: string }>;
}

export interface LocalCloud {
  url: string;
  azurite: RunningAzurite;
  host: LocalHost;
  services: Services;
  settings: Record<string, string>;
  admin: { username: string; password: string; project: string };
  /** What beforeHost started, for the start banner. */
  extraDescription?: string;
  stop(): Promise<void>;
}

export async function startLocalCloud(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
  const azurite = await startAzurite(opts.azurite);
  let extra: Awaited<ReturnType<NonNullable<LocalCloudOptions['beforeHost']>>> | undefined;
  let settings: Record<string, string> = {};
  let host: LocalHost & { services: Services };
  try {
    extra = opts.beforeHost ? await opts.beforeHost(azurite) : undefined;
    host = await startHost(
      (url) => {
        // The local wiring, then what beforeHost started, then the caller's settings over both.
        settings = {
          JACKET_PUBLIC_URL: url,
          JACKET_STORAGE_CONNECTION_STRING: azurite.connectionString,
          JACKET_STORAGE_ACCOUNT: azurite.account,
          JACKET_TOKEN_KEYS: randomBytes(32).toString('base64'),
          JACKET_BOOTSTRAP_USERNAME: 'admin',
          JACKET_BOOTSTRAP_PASSWORD: opts.adminPassword ?? randomBytes(12).toString('base64url'),
          JACKET_BOOTSTRAP_PROJECT: 'admin',
          ...(opts.armEndpoint ? { JACKET_ARM_ENDPOINT: opts.armEndpoint, JACKET_AZURE_CREDENTIAL: 'static' } : {}),
          ...extra?.settings,
          ...opts.settings,
        };
        return createServices(loadConfig(settings));
      },
      { port: opts.port, dispatch: opts.dispatch, timers: opts.timers },
    );
  } catch (e) {
    // A bad setting (ConfigError), a port in use, a failed bootstrap: stop what runs, then report it.
    await extra?.stop();
    await azurite.stop();
    throw e;
  }
  const h = host;
  return {
    url: h.url,
    azurite,
    host: h,
    services: h.services,
    settings,
    admin: { username: settings.JACKET_BOOTSTRAP_USERNAME, password: settings.JACKET_BOOTSTRAP_PASSWORD, project: settings.JACKET_BOOTSTRAP_PROJECT ?? 'admin' },
    extraDescription: extra?.describe,
    stop: async () => {
      await h.stop();
      await extra?.stop();
      await azurite.stop();
    },
  };
}

export function cloudsYaml(cloudName: string, url: string, admin: { username: string; password: string; project: string }, region = 'RegionOne'): string {
  return [
    'clouds:',
    `  ${cloudName}:`,
    '    auth:',
    `      auth_url: ${url}/identity`,
    `      username: ${admin.username}`,
    `      password: ${JSON.stringify(admin.password)}`,
    `      project_name: ${admin.project}`,
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    '    identity_api_version: 3',
    `    region_name: ${region}`,
    '    interface: public',
    '',
  ].join('\n');
}
