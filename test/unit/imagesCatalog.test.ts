// The operator's marketplace image section (catalog.images): defaults, validation, record shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../shared/config';
import { marketplaceImages, marketplaceRecord, findMarketplace } from '../../shared/image/catalog';
import { imageView } from '../../shared/image/view';

const base = {
  JACKET_PUBLIC_URL: 'https://jacket.example.com/',
  JACKET_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  JACKET_TOKEN_KEYS: Buffer.alloc(32, 7).toString('base64'),
};
const withCatalog = (images: unknown) => loadConfig({ ...base, JACKET_CATALOG: JSON.stringify({ images }) });

test('without a section: Ubuntu 22.04 and Windows Server 2022, with ids stable across processes', () => {
  const a = marketplaceImages(loadConfig(base));
  const b = marketplaceImages(loadConfig(base));
  assert.deepEqual(
    a.map((i) => [i.publisher, i.offer, i.sku, i.version, i.os_type]),
    [
      ['Canonical', '0001-com-ubuntu-server-jammy', '22_04-lts-gen2', 'latest', 'linux'],
      ['MicrosoftWindowsServer', 'WindowsServer', '2022-datacenter-azure-edition', 'latest', 'windows'],
    ],
  );
  assert.deepEqual(
    a.map((i) => i.id),
    b.map((i) => i.id),
  );
  for (const i of a) assert.match(i.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('an operator section replaces the defaults; records are public, protected, active and carry the reference', () => {
  const cfg = withCatalog([
    { id: '11111111-2222-4333-8444-555555555555', name: 'debian-12', publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: '0.20240101.1', os_type: 'linux', min_disk: 10 },
  ]);
  const list = marketplaceImages(cfg);
  assert.equal(list.length, 1);
  const rec = findMarketplace(cfg, '11111111-2222-4333-8444-555555555555')!;
  assert.equal(rec.visibility, 'public');
  assert.equal(rec.protected, true);
  assert.equal(rec.status, 'active');
  assert.equal(rec.min_disk, 10);
  assert.deepEqual(rec.properties, {
    azure_type: 'marketplace',
    azure_publisher: 'Debian',
    azure_offer: 'debian-12',
    azure_sku: '12-gen2',
    azure_version: '0.20240101.1',
    azure_os_type: 'linux',
    os_type: 'linux',
  });
  const view = imageView(marketplaceRecord(list[0]));
  assert.equal(view.self, '/v2/images/11111111-2222-4333-8444-555555555555');
  assert.equal(view.schema, '/v2/schemas/image');
  assert.equal(view.azure_sku, '12-gen2');
  assert.equal(findMarketplace(cfg, '00000000-0000-0000-0000-000000000000'), undefined);
});

test('bad sections are configuration errors naming the entry', () => {
  const ok = { id: '11111111-2222-4333-8444-555555555555', name: 'x', publisher: 'p', offer: 'o', sku: 's', version: 'latest', os_type: 'linux' };
  assert.throws(() => marketplaceImages(withCatalog({})), ConfigError);
  assert.throws(() => marketplaceImages(withCatalog([{ ...ok, id: 'nope' }])), /catalog.images\[0\].id must be a UUID/);
  assert.throws(() => marketplaceImages(withCatalog([{ ...ok, os_type: 'bsd' }])), /os_type must be linux or windows/);
  assert.throws(() => marketplaceImages(withCatalog([ok, ok])), /catalog.images\[1\].id .* is listed twice/);
  assert.throws(() => marketplaceImages(withCatalog([{ ...ok, sku: '' }])), /catalog.images\[0\].sku must be a non-empty string/);
  assert.throws(() => marketplaceImages(withCatalog([{ ...ok, min_ram: -1 }])), /min_ram must be a non-negative integer/);
  assert.throws(() => marketplaceImages(withCatalog([{ ...ok, visibility: 'private' }])), /visibility must be public/);
});
