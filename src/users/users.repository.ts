import type { EntityManager } from 'typeorm';
import { UserEntity } from './user.entity.js';
import type { User } from './user.js';

export class UsersRepository {
  constructor(private readonly manager: EntityManager) {}

  private get users() {
    return this.manager.getRepository(UserEntity);
  }

  exists(userId: string): Promise<boolean> {
    return this.users.existsBy({ userId });
  }

  findById(userId: string): Promise<User | null> {
    return this.users.findOneBy({ userId });
  }

  /** Throws a unique violation when the id is taken (see database/errors.ts). */
  async insert(user: User): Promise<void> {
    await this.users.insert(user);
  }

  /** Creates the user when unknown (the original /chat contract); safe against races. */
  async ensureExists(userId: string, createdAt: string): Promise<void> {
    await this.users
      .createQueryBuilder()
      .insert()
      .values({ userId, username: null, email: null, createdAt, dailyBudgetNanoUsd: null })
      .orIgnore()
      .execute();
  }

  async setDailyBudget(userId: string, dailyBudgetNanoUsd: number | null): Promise<void> {
    await this.users.update({ userId }, { dailyBudgetNanoUsd });
  }

  /** The names (`files/…`) of the copies at Gemini of the user's files. */
  async geminiCopiesOf(userId: string): Promise<string[]> {
    const rows: { name: string }[] = await this.manager
      .createQueryBuilder()
      .select('g.name', 'name')
      .from('gemini_files', 'g')
      .innerJoin('files', 'f', 'f.file_id = g.file_id')
      .where('f.user_id = :userId', { userId })
      .getRawMany();
    return rows.map((row) => row.name);
  }

  /** Its sessions, their messages, its API keys and its files go with it (the foreign keys cascade). */
  async delete(userId: string): Promise<void> {
    await this.users.delete({ userId });
  }
}
