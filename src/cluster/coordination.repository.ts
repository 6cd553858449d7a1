import type { EntityManager } from 'typeorm';

/** What a turn's transaction releases of what it held (PostgreSQL; nothing is held on SQLite). */
export class CoordinationRepository {
  constructor(private readonly manager: EntityManager) {}

  /** False when the lease is no longer this holder's (it expired). */
  async releaseLease(sessionId: string, holder: string): Promise<boolean> {
    const { affected } = await this.manager
      .createQueryBuilder()
      .delete()
      .from('session_leases')
      .where('session_id = :sessionId AND holder = :holder', { sessionId, holder })
      .execute();
    return (affected ?? 0) > 0;
  }

  async releaseReservation(id: string): Promise<void> {
    await this.manager.createQueryBuilder().delete().from('budget_reservations').where('id = :id', { id }).execute();
  }
}
