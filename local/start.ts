// `npm start`: Jacket on loopback, with settings read as the Functions host reads them
// (local/settings.ts: local.settings.json Values, then the environment, over the local defaults).
//
// Two modes (local/settings.ts localMode):
// - the local cloud (default): Azurite (Blob, Queue, Table) and the ARM emulator, their state kept
//   under .local/ so servers, volumes and tokens survive Ctrl-C (local/state.ts); `--fresh` starts
//   from an empty cloud;
// - real Azure: JACKET_AZURE_SUBSCRIPTION_ID names a real subscription and JACKET_ARM_ENDPOINT is unset
//   or Azure's: the APIs are served here against that subscription and its storage account with
//   DefaultAzureCredential (`az login`, AZURE_* variables, managed identity) — no emulator, no Azurite.
// Either way it writes a clouds.yaml so `OS_CLOUD=jacket-local openstack ...` works. Ctrl-C stops.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTelemetry } from '../shared/telemetry';
import { ConfigError, loadConfig } from '../shared/config';
import { log } from '../shared/log';
import { localMode, mergeSettings, readLocalSettingsFile, type Settings } from './settings';
import { LocalState } from './state';
import type { RunningEmulator } from '../emulator/server';

const ROOT = path.resolve(__dirname, '../..');

/** What the local cloud sets itself in emulator mode: the user's values for these would point elsewhere. */
const LOCAL_WIRING = /^(JACKET_STORAGE(_CONNECTION_STRING|_ACCOUNT|__.*)?|JACKET_ARM_ENDPOINT|JACKET_AZURE_CREDENTIAL|JACKET_ARM_CA_CERT|JACKET_PUBLIC_URL|JACKET_AZURE_SUBSCRIPTION_ID)$/;

interface Started {
  url: string;
  admin: { username: string; password: string; project: string };
  banner: string[];
  stop(): Promise<void>;
}

function parseArgs(argv: string[]): { fresh: boolean } {
  const unknown = argv.filter((a) => a !== '--fresh');
  if (unknown.length > 0) throw new ConfigError(`unknown argument ${unknown[0]} (npm start [-- --fresh])`);
  return { fresh: argv.includes('--fresh') };
}

/** Checks every setting before anything starts, with placeholders for what the start itself provides. */
function preflight(s: Settings, port: number, mode: 'azure' | 'emulator'): void {
  const placeholders: Settings = { JACKET_PUBLIC_URL: `http://127.0.0.1:${port}`, JACKET_TOKEN_KEYS: s.JACKET_TOKEN_KEYS ?? Buffer.alloc(32).toString('base64') };
  if (mode === 'emulator') placeholders.JACKET_STORAGE_CONNECTION_STRING = 'UseDevelopmentStorage=true';
  loadConfig({ ...s, ...placeholders });
}

async function startEmulatorMode(s: Settings, port: number, state: LocalState): Promise<Started> {
  const { startLocalCloud } = await import('./cloud');
  const { startEmulator } = await import('../emulator/server');
  const settings: Settings = { ...s, JACKET_TOKEN_KEYS: s.JACKET_TOKEN_KEYS ?? state.tokenKeys() };
  let emu: RunningEmulator | undefined;
  let saver: NodeJS.Timeout | undefined;
  const save = () => {
    if (emu) state.saveEmulator(emu.emulator.store.snapshot());
  };
  const cloud = await startLocalCloud({
    port,
    settings,
    timers: s.JACKET_LOCAL_TIMERS !== 'off', // the sweeps on their schedules (docs/timers.md)
    azurite: { location: state.azuriteDir, key: state.azuriteKey() },
    beforeHost: async (azurite) => {
      // Azurite first (the emulator keeps disk bytes in it), then the emulator, then the app.
      const e = await startEmulator({
        port: Number(s.EMULATOR_PORT ?? 0),
        blobConnectionString: azurite.connectionString,
        certDir: state.certDir,
        asyncDelayMs: Number(s.EMULATOR_ASYNC_DELAY_MS ?? 2000),
      });
      emu = e;
      const saved = state.loadEmulator<Parameters<typeof e.emulator.store.restore>[0]>();
      if (saved) e.emulator.store.restore(saved);
      // Saved on stop, and every 10 s in case the process is killed rather than stopped.
      saver = setInterval(save, 10000).unref();
      return {
        settings: { JACKET_ARM_ENDPOINT: e.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: e.caCertPath, JACKET_AZURE_SUBSCRIPTION_ID: e.subscriptionId },
        stop: async () => {
          clearInterval(saver);
          save();
          await e.stop();
        },
        describe: `ARM emulator     ${e.url}  (certificate ${e.caCertPath})`,
      };
    },
  });
  return {
    url: cloud.url,
    admin: cloud.admin,
    banner: [
      `Jacket local cloud is up (state in ${state.dir}; \`npm start -- --fresh\` for an empty cloud).`,
      `  OpenStack APIs   ${cloud.url}  (identity ${cloud.url}/identity, compute ${cloud.url}/compute/v2.1, volume ${cloud.url}/volume/v3)`,
      `  Azurite          blob ${cloud.azurite.blobUrl}  queue ${cloud.azurite.queueUrl}  table ${cloud.azurite.tableUrl}`,
      ...(cloud.extraDescription ? [`  ${cloud.extraDescription}`] : []),
    ],
    stop: () => cloud.stop(),
  };
}

async function startAzureMode(s: Settings, port: number, state: LocalState): Promise<Started> {
  const settings: Settings = { ...s, JACKET_TOKEN_KEYS: s.JACKET_TOKEN_KEYS ?? state.tokenKeys() };
  const cfgPreview = loadConfig({ JACKET_PUBLIC_URL: `http://127.0.0.1:${port}`, ...settings });
  const { azureCredential } = await import('../shared/azure/clients');
  const scope = `${cfgPreview.azure.armEndpoint}/.default`;
  try {
    await Promise.race([azureCredential().getToken(scope), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 60 s')), 60000).unref())]);
  } catch (e) {
    throw new ConfigError(
      `real-Azure mode (JACKET_AZURE_SUBSCRIPTION_ID ${cfgPreview.azure.subscriptionId}) needs an Azure credential: ` +
        `run \`az login\`, or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`,
    );
  }
  const { startHost } = await import('./host');
  const { createServices } = await import('../shared/services');
  let cfgUsed = cfgPreview;
  const host = await startHost(
    (url) => {
      cfgUsed = loadConfig({ ...settings, JACKET_PUBLIC_URL: s.JACKET_PUBLIC_URL ?? url });
      return createServices(cfgUsed);
    },
    // The sweeps delete real resources: off unless asked for (JACKET_LOCAL_TIMERS=on); a deployed
    // Jacket on the same subscription runs them already.
    { port, timers: s.JACKET_LOCAL_TIMERS === 'on' },
  );
  const a = cfgUsed.azure;
  const storage = cfgUsed.storage.kind === 'identity' ? `${cfgUsed.storage.accountName} (identity-based)` : 'from JACKET_STORAGE_CONNECTION_STRING';
  const bar = '!'.repeat(100);
  return {
    url: host.url,
    admin: { username: cfgUsed.bootstrap?.username ?? 'admin', password: cfgUsed.bootstrap?.password ?? '', project: cfgUsed.bootstrap?.projectName ?? 'admin' },
    banner: [
      bar,
      '!! REAL AZURE: no emulator, no Azurite. Servers and volumes made here are real, billed Azure resources.',
      `!!   subscription   ${a.subscriptionId}   resource group ${a.resourceGroup}   location ${a.location}`,
      `!!   ARM            ${a.armEndpoint}  (DefaultAzureCredential)`,
      `!!   storage        ${storage}   tables prefixed "${cfgUsed.storagePrefix}", queue ${cfgUsed.workQueue}`,
      `!!   timers         ${s.JACKET_LOCAL_TIMERS === 'on' ? 'ON (sweeps delete orphaned resources)' : 'off (JACKET_LOCAL_TIMERS=on to run the sweeps here)'}`,
      bar,
      `Jacket is serving Azure on ${host.url}  (identity ${host.url}/identity, compute ${host.url}/compute/v2.1, volume ${host.url}/volume/v3)`,
    ],
    stop: () => host.stop(),
  };
}

async function main() {
  const { fresh } = parseArgs(process.argv.slice(2));
  // JACKET_LOCAL_SETTINGS names another file (the tests point it at an empty directory, so a developer's own file never leaks in).
  const s = mergeSettings(readLocalSettingsFile(process.env.JACKET_LOCAL_SETTINGS || path.join(ROOT, 'local.settings.json')), process.env);
  log.setLevel((s.JACKET_LOG_LEVEL as never) || 'warn');
  startTelemetry(s); // a connection string in local.settings.json sends this run's telemetry too
  const port = Number(s.JACKET_PORT ?? 8774);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`setting JACKET_PORT must be a TCP port, got "${s.JACKET_PORT}"`);
  const mode = localMode(s);
  if (mode === 'emulator') for (const k of Object.keys(s)) if (LOCAL_WIRING.test(k)) delete s[k];
  preflight(s, port, mode);
  const stateDir = s.JACKET_LOCAL_STATE_DIR ? path.resolve(s.JACKET_LOCAL_STATE_DIR) : path.join(ROOT, '.local');
  const state = new LocalState(stateDir);
  if (fresh) state.clear();
  const started = mode === 'azure' ? await startAzureMode(s, port, state) : await startEmulatorMode(s, port, state);
  // clouds.yaml next to the state (the repository root for the default .local/).
  const yamlPath = path.join(s.JACKET_LOCAL_STATE_DIR ? stateDir : ROOT, 'clouds.yaml');
  const { cloudsYaml } = await import('./cloud');
  writeFileSync(yamlPath, cloudsYaml('jacket-local', started.url, started.admin, s.JACKET_REGION || 'RegionOne'), { mode: 0o600 });
  const lines = [
    '',
    ...started.banner,
    `  admin user       ${started.admin.username} / ${started.admin.password} (project ${started.admin.project})`,
    '',
    `Wrote ${yamlPath}. From the repository root:`,
    '  bash scripts/ensure-venv.sh          # once: the openstack CLI in .venv',
    '  export OS_CLOUD=jacket-local',
    '  .venv/bin/openstack token issue',
    '  .venv/bin/openstack catalog list',
    `(elsewhere: export OS_CLIENT_CONFIG_FILE=${yamlPath})`,
    '',
    'Ctrl-C stops everything.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping...\n');
    await started.stop();
    process.stdout.write('stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  if (e instanceof ConfigError) process.stderr.write(`npm start: ${e.message}\n`);
  else process.stderr.write(`npm start failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
