/**
 * `npm run emulator`: starts the ARM emulator (and an in-memory Azurite Blob unless a connection string
 * is given) and prints where it listens.
 *
 * Environment:
 *   EMULATOR_PORT                    port (default 8443; 0 = any free port)
 *   EMULATOR_HOST                    default 127.0.0.1
 *   EMULATOR_BLOB_CONNECTION_STRING  Azurite Blob connection string (else AZURITE_BLOB_CONNECTION_STRING,
 *                                    else an in-memory Azurite Blob is started)
 *   EMULATOR_CERT_DIR                where the TLS cert is kept (default <tmp>/jacket-emulator-cert)
 *   EMULATOR_ASYNC_DELAY_MS          duration of long-running operations (default 2000 here, 0 in tests)
 *   EMULATOR_SEED_FILE               JSON file with seed overrides (see EmulatorSeed)
 *   EMULATOR_SUBSCRIPTION_ID, EMULATOR_LOCATION, EMULATOR_LOG=1
 */
import * as fs from 'node:fs';
import { startAzuriteBlob } from './azurite';
import { startEmulator } from './server';

async function main(): Promise<void> {
  const env = process.env;
  let conn = env.EMULATOR_BLOB_CONNECTION_STRING ?? env.AZURITE_BLOB_CONNECTION_STRING;
  let stopAzurite: (() => Promise<void>) | undefined;
  if (!conn) {
    const az = await startAzuriteBlob();
    conn = az.connectionString;
    stopAzurite = az.stop;
    process.stdout.write(`Azurite Blob (in memory): ${az.blobEndpoint}\n`);
  }
  const emu = await startEmulator({
    port: env.EMULATOR_PORT !== undefined ? Number(env.EMULATOR_PORT) : 8443,
    host: env.EMULATOR_HOST,
    subscriptionId: env.EMULATOR_SUBSCRIPTION_ID,
    location: env.EMULATOR_LOCATION,
    blobConnectionString: conn,
    certDir: env.EMULATOR_CERT_DIR,
    asyncDelayMs: env.EMULATOR_ASYNC_DELAY_MS !== undefined ? Number(env.EMULATOR_ASYNC_DELAY_MS) : 2000,
    seed: env.EMULATOR_SEED_FILE ? JSON.parse(fs.readFileSync(env.EMULATOR_SEED_FILE, 'utf8')) : undefined,
    log: env.EMULATOR_LOG === '1',
  });
  process.stdout.write(
    `ARM emulator listening on ${emu.url}\n` +
      `  subscription ${emu.subscriptionId}, location ${emu.location}\n` +
      `  certificate: ${emu.caCertPath}\n` +
      `  clients: NODE_EXTRA_CA_CERTS=${emu.caCertPath}\n` +
      `  control API: ${emu.url}/_emulator/health\n`,
  );
  const shutdown = async () => {
    await emu.stop();
    if (stopAzurite) await stopAzurite();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
