// The settings `npm start` runs with, read the way the Functions host (Core Tools) reads them:
// local.settings.json's "Values", then the environment over them, all over the local cloud's defaults
// (LOCAL_DEFAULTS). The result is checked with the same loadConfig the app uses in Azure, so a bad
// setting stops `npm start` naming it. docs/configuration.md lists every setting.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../shared/config';

export type Settings = Record<string, string>;

/** What the local cloud runs with when neither local.settings.json nor the environment says otherwise. */
export const LOCAL_DEFAULTS: Readonly<Settings> = {
  JACKET_BOOTSTRAP_USERNAME: 'admin',
  JACKET_BOOTSTRAP_PASSWORD: 'Jacket-admin-1',
  JACKET_BOOTSTRAP_PROJECT: 'admin',
};

/** local.settings.json's Values (strings only, as the host takes them); {} when there is no file. */
export function readLocalSettingsFile(file: string): Settings {
  if (!existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const values = (doc as { Values?: unknown } | null)?.Values;
  if (values === undefined) return {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ConfigError(`${file}: "Values" must be an object`);
  const out: Settings = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new ConfigError(`${file}: setting ${k} must be a string`);
  }
  return out;
}

/**
 * defaults < local.settings.json Values < environment. Empty values count as unset (the sample file
 * lists every setting, most of them empty or at their defaults). JACKET_ADMIN_PASSWORD, the older
 * `npm start` variable, still sets the bootstrap password.
 */
export function mergeSettings(file: Settings, env: Record<string, string | undefined>): Settings {
  const out: Settings = { ...LOCAL_DEFAULTS };
  const layer = (src: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(src)) if (v !== undefined && v.trim() !== '') out[k] = v;
  };
  layer(file);
  if (env.JACKET_ADMIN_PASSWORD) out.JACKET_BOOTSTRAP_PASSWORD = env.JACKET_ADMIN_PASSWORD;
  layer(env);
  return out;
}

const AZURE_ARM = /^https:\/\/management\.(azure\.com|usgovcloudapi\.net|chinacloudapi\.cn)\/?$/i;
const ZERO_SUBSCRIPTION = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

/**
 * 'azure' when the settings point at a real subscription: JACKET_ARM_ENDPOINT unset or Azure's, and
 * JACKET_AZURE_SUBSCRIPTION_ID set to a real one (not the all-zero placeholder of the sample and of
 * the emulator). Otherwise 'emulator': Azurite and the ARM emulator on loopback.
 */
export function localMode(s: Settings): 'azure' | 'emulator' {
  const endpoint = s.JACKET_ARM_ENDPOINT?.trim();
  const sub = s.JACKET_AZURE_SUBSCRIPTION_ID?.trim();
  if (endpoint && !AZURE_ARM.test(endpoint)) return 'emulator';
  if (!sub || ZERO_SUBSCRIPTION.test(sub)) return 'emulator';
  return 'azure';
}
