import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

/**
 * A repository works on the EntityManager it is given: the data source's for reads (this
 * provider), a transaction's inside a unit of work (see unit-of-work.ts).
 */
export type RepositoryClass<T> = new (manager: EntityManager) => T;

/** `token`: what it is injected as, when not its class (an interface's token). */
export function repositoryProvider<T>(type: RepositoryClass<T>, token: string | symbol | RepositoryClass<T> = type): Provider {
  return { provide: token, inject: [DataSource], useFactory: (dataSource: DataSource) => new type(dataSource.manager) };
}
