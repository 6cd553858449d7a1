import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: a caller's rate-limit window taken in one round trip. The function runs the
 * transaction the service used to run statement by statement — the caller's advisory lock, the
 * starts of the last window counted, older ones deleted, this start added — as one statement.
 * Correct under READ COMMITTED: each statement of a (volatile) PL/pgSQL function reads a fresh
 * snapshot, so the count, taken after the lock, sees every start committed by its previous
 * holder. SQLite (one process) keeps its window in memory: nothing to add there.
 */
export class RateLimitFunction1764300000000 implements MigrationInterface {
  name = 'RateLimitFunction1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION take_rate_limit(p_scope varchar, p_limit integer, p_window_ms bigint)
        RETURNS TABLE (admitted boolean, oldest bigint, now_ms bigint)
        LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_now bigint;
        v_starts bigint;
        v_oldest bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('rate:' || p_scope, 0));
        v_now := (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint;
        SELECT COUNT(*), MIN(h.at) INTO v_starts, v_oldest
          FROM rate_limit_hits h WHERE h.scope = p_scope AND h.at > v_now - p_window_ms;
        IF v_starts >= p_limit THEN
          RETURN QUERY SELECT false, v_oldest, v_now;
          RETURN;
        END IF;
        DELETE FROM rate_limit_hits h WHERE h.scope = p_scope AND h.at <= v_now - p_window_ms;
        INSERT INTO rate_limit_hits (scope, at) VALUES (p_scope, v_now);
        RETURN QUERY SELECT true, v_oldest, v_now;
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query('DROP FUNCTION IF EXISTS take_rate_limit(varchar, integer, bigint)');
  }
}
