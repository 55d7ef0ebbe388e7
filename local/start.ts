// `npm start`: the local cloud on loopback — Azurite (Blob, Queue, Table), the ARM emulator, and the
// app host serving every API — then a clouds.yaml so `OS_CLOUD=jacket-local openstack ...` works.
// Ctrl-C stops everything.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startLocalCloud, cloudsYaml } from './cloud';
import { log } from '../shared/log';

const ROOT = path.resolve(__dirname, '../..');

interface EmulatorHandle {
  url: string;
  caCertPath: string;
  stop(): Promise<void>;
}

async function startArmEmulator(blobConnectionString: string): Promise<EmulatorHandle | undefined> {
  // The emulator is a dev/test tool outside the deployed bundle; load it only here.
  let mod: { startEmulator?: (o: object) => Promise<EmulatorHandle> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('../emulator/server');
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    return undefined;
  }
  if (!mod.startEmulator) return undefined;
  return mod.startEmulator({
    port: Number(process.env.EMULATOR_PORT ?? 0),
    blobConnectionString,
    certDir: path.join(ROOT, '.local/certs'),
    asyncDelayMs: Number(process.env.EMULATOR_ASYNC_DELAY_MS ?? 2000),
  });
}

async function main() {
  if (!process.env.JACKET_LOG_LEVEL) log.setLevel('warn');
  const port = Number(process.env.JACKET_PORT ?? 8774);
  const password = process.env.JACKET_ADMIN_PASSWORD ?? 'Jacket-admin-1';
  // Azurite first (the emulator keeps disk bytes in it), then the emulator, then the app.
  const cloud = await startLocalCloud({
    port,
    adminPassword: password,
    timers: process.env.JACKET_LOCAL_TIMERS !== 'off', // the sweeps on their schedules (docs/timers.md)
    beforeHost: async (azurite): Promise<{ settings: Record<string, string>; stop(): Promise<void>; describe?: string }> => {
      const emu = await startArmEmulator(azurite.connectionString);
      if (!emu) return { settings: {}, stop: async () => {} };
      return {
        settings: { JACKET_ARM_ENDPOINT: emu.url, JACKET_AZURE_CREDENTIAL: 'static', JACKET_ARM_CA_CERT: emu.caCertPath },
        stop: () => emu.stop(),
        describe: `ARM emulator     ${emu.url}  (certificate ${emu.caCertPath})`,
      };
    },
  });
  const yamlPath = path.join(ROOT, 'clouds.yaml');
  writeFileSync(yamlPath, cloudsYaml('jacket-local', cloud.url, cloud.admin), { mode: 0o600 });
  const lines = [
    '',
    'Jacket local cloud is up.',
    `  OpenStack APIs   ${cloud.url}  (identity ${cloud.url}/identity, compute ${cloud.url}/compute/v2.1, volume ${cloud.url}/volume/v3)`,
    `  Azurite          blob ${cloud.azurite.blobUrl}  queue ${cloud.azurite.queueUrl}  table ${cloud.azurite.tableUrl}`,
    ...(cloud.extraDescription ? [`  ${cloud.extraDescription}`] : []),
    `  admin user       ${cloud.admin.username} / ${cloud.admin.password} (project ${cloud.admin.project})`,
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
    await cloud.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  process.stderr.write(`npm start failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
