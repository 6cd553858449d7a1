import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * One page of a user's rows newest first (sessions, files), after the last one seen: ordered by
 * `createdAt` then `id`, both descending, so rows with the same time never skip or repeat.
 * `alias` is the query's; its entity has `createdAt` and `id` properties.
 */
export function newestFirstPage<Entity extends ObjectLiteral>(
  query: SelectQueryBuilder<Entity>,
  alias: string,
  limit: number,
  after: { createdAt: string; id: string } | null,
): Promise<Entity[]> {
  query.orderBy(`${alias}.createdAt`, 'DESC').addOrderBy(`${alias}.id`, 'DESC').limit(limit);
  if (after) query.andWhere(`(${alias}.createdAt < :createdAt OR (${alias}.createdAt = :createdAt AND ${alias}.id < :id))`, after);
  return query.getMany();
}
