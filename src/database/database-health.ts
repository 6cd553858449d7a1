import { Injectable } from '@nestjs/common';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { databaseFailureOf } from '../core/database-failure.js';
import { now } from '../core/clock.js';
import { Sql } from './sql.js';

/** The PostgreSQL pool of this instance: connections lent out, idle, and requests waiting for one. */
export interface PoolReading {
  inUse: number;
  idle: number;
  waiting: number;
}

/** `up`: answers and takes writes; `read-only`: answers, but a write fails (read-only, disk full); `down`: does not answer. */
export type DatabaseState = 'up' | 'read-only' | 'down';

/**
 * Free space below which the file system of a SQLite file counts as full: about what one turn
 * with long messages writes to the WAL. SQLite can still write a small probe into WAL space a
 * failed write left behind when nothing else fits, so the probe alone would say `up`.
 */
const SQLITE_FULL_BELOW_BYTES = 256 * 1024;

/**
 * /health/ready may be asked any number of times: the write probe runs at most this often (one
 * at a time), and answers in between reuse its last outcome. On SQLite a write is an fsync that
 * holds the event loop; this bounds what asking for readiness can cost.
 */
const PROBE_INTERVAL_MS = 250;

const PROBE = new Sql(
  'INSERT INTO health_probe (id, probed_at) VALUES (1, :at) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at',
);

@Injectable()
export class DatabaseHealth {
  private probing: Promise<DatabaseState> | null = null;
  private lastProbe: { state: DatabaseState; at: number } | null = null;

  constructor(private readonly dataSource: DataSource) {}

  /** True when the database answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** The pool's state now (pg's Pool counts); null on SQLite, which has one connection and no pool. */
  pool(): PoolReading | null {
    const pool = (this.dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
    if (this.dataSource.options.type !== 'postgres' || !pool) return null;
    return { inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }

  /**
   * Whether the database answers and takes a write: a one-row upsert (to `health_probe`, made by
   * the migrations: call it once they ran) and, for a SQLite file, the free space beside it.
   */
  async state(): Promise<DatabaseState> {
    if (!(await this.ping())) return 'down';
    if (await this.sqliteDiskFull()) return 'read-only';
    return this.probeWrite();
  }

  private probeWrite(): Promise<DatabaseState> {
    if (this.lastProbe && Date.now() - this.lastProbe.at < PROBE_INTERVAL_MS) return Promise.resolve(this.lastProbe.state);
    this.probing ??= this.write()
      .then((state) => {
        this.lastProbe = { state, at: Date.now() };
        return state;
      })
      .finally(() => {
        this.probing = null;
      });
    return this.probing;
  }

  private async write(): Promise<DatabaseState> {
    try {
      await PROBE.execute(this.dataSource.manager, { at: now() });
      return 'up';
    } catch (error) {
      // Whatever else failed the write (a constraint, a missing table), the database did not take it.
      return databaseFailureOf(error) === 'unavailable' ? 'down' : 'read-only';
    }
  }

  private async sqliteDiskFull(): Promise<boolean> {
    const { type, database } = this.dataSource.options;
    if (type !== 'better-sqlite3' || typeof database !== 'string' || database === ':memory:') return false;
    try {
      const { bavail, bsize } = await statfs(dirname(database));
      return bavail * bsize < SQLITE_FULL_BELOW_BYTES;
    } catch {
      return false; // the probe write says what the file system cannot
    }
  }
}
