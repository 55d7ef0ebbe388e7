/** The emulator's state and services, shared by every handler. */
import type { ResolvedConfig } from './config';
import { resourceGroupNotFound, ArmError } from './arm/errors';
import { Faults } from './arm/faults';
import { Operations } from './arm/lro';
import { Recorder } from './arm/recorder';
import { Router } from './arm/router';
import { Throttle } from './arm/throttle';
import { Store } from './state';
import { DiskBlobs } from './storage/diskBlobs';
import { seedNetwork } from './network/seed';

export class Emulator {
  readonly store = new Store();
  readonly faults = new Faults();
  readonly recorder = new Recorder();
  readonly router = new Router();
  readonly throttle: Throttle;
  readonly ops: Operations;
  readonly blobs: DiskBlobs;
  asyncDelayMs: number;
  nicReservationMs: number;

  constructor(readonly cfg: ResolvedConfig) {
    this.asyncDelayMs = cfg.asyncDelayMs;
    this.nicReservationMs = cfg.nicReservationMs;
    this.throttle = new Throttle(cfg.throttle);
    this.blobs = new DiskBlobs(cfg.blobConnectionString, cfg.diskContainer);
    this.ops = new Operations(
      () => this.asyncDelayMs,
      cfg.subscriptionId,
      (method, path) => {
        const f = this.faults.takeAsyncFault(method, path);
        return f ? { code: f.spec.code, message: f.spec.message } : undefined;
      },
    );
  }

  get sub(): string {
    return this.cfg.subscriptionId;
  }

  get location(): string {
    return this.cfg.location;
  }

  async init(): Promise<void> {
    await this.blobs.init();
    this.seed();
  }

  seed(): void {
    for (const rg of this.cfg.seed.resourceGroups) this.store.resourceGroups.set(rg.toLowerCase(), { name: rg, location: this.location });
    seedNetwork(this);
  }

  /** Forget all resources and operations; delete the emulator's blobs; seed again. */
  async reset(): Promise<void> {
    this.store.clear();
    this.ops.clear();
    this.faults.clear();
    this.recorder.clear();
    this.throttle.configure(this.cfg.throttle);
    this.asyncDelayMs = this.cfg.asyncDelayMs;
    this.nicReservationMs = this.cfg.nicReservationMs;
    await this.blobs.clearAll();
    this.seed();
  }

  /** Canonical resource group name, or 404 ResourceGroupNotFound. */
  requireRg(rg: string): string {
    const r = this.store.resourceGroups.get(rg.toLowerCase());
    if (!r) throw resourceGroupNotFound(rg);
    return r.name;
  }

  /** Resources live in the emulator's one location. */
  requireLocation(location: unknown, target = 'location'): string {
    if (typeof location !== 'string' || location.length === 0) {
      throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.', target);
    }
    const loc = location.toLowerCase().replace(/\s+/g, '');
    if (loc !== this.location) {
      throw new ArmError(
        400,
        'LocationNotAvailableForResourceType',
        `The provided location '${location}' is not available for resource type. List of available regions for the resource type is '${this.location}'.`,
        target,
      );
    }
    return loc;
  }
}
