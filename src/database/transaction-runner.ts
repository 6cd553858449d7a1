import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { KeyedSerializer } from '../common/keyed-serializer.js';

/**
 * Short write transactions. TypeORM's SQLite drivers share one query runner, so two
 * overlapping transactions would nest as savepoints of each other; on SQLite they are
 * therefore queued (they take microseconds). PostgreSQL runs them side by side.
 */
@Injectable()
export class TransactionRunner {
  private readonly queue = new KeyedSerializer();
  private readonly serialise: boolean;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serialise = dataSource.options.type !== 'postgres';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const transaction = () => this.dataSource.transaction(work);
    return this.serialise ? this.queue.run('write', transaction) : transaction();
  }
}
