import { Injectable } from '@nestjs/common';
import { Migrations } from '../database/migrate.js';

export type Phase = 'migrating' | 'ready' | 'draining';

/**
 * Where this instance is in its life: it listens at once, answers 503 NOT_READY (but for
 * /health and /health/ready) while it migrates the database — which may mean waiting for
 * another instance that migrates it — serves, and from SIGTERM on drains: it finishes its turns
 * in flight and refuses new requests, so a load balancer sends them elsewhere.
 */
@Injectable()
export class Readiness {
  private current: Phase = 'migrating';

  constructor(private readonly migrations: Migrations) {}

  get phase(): Phase {
    return this.current;
  }

  /** Migrates the database, then serves. */
  async migrate(): Promise<void> {
    await this.migrations.apply();
    if (this.current === 'migrating') this.current = 'ready';
  }

  drain(): void {
    this.current = 'draining';
  }
}
