import type { EntityManager, ObjectLiteral } from 'typeorm';

/**
 * Runs SQL written with `:name` parameters on either database: the driver turns them into its
 * own placeholders (`$1` on PostgreSQL, `?` on SQLite). For statements TypeORM cannot build
 * whose text varies, such as `IN (:...ids)` lists.
 */
export function runSql<T = unknown>(manager: EntityManager, sql: string, parameters: ObjectLiteral = {}): Promise<T> {
  const [text, values] = manager.connection.driver.escapeQueryWithParameters(sql, parameters);
  return manager.query(text, values);
}

/** What a statement returned: its rows (a SELECT, or RETURNING) and, without RETURNING, how many rows it changed. */
export interface SqlResult<Row> {
  rows: Row[];
  affected: number;
}

const NAMED = /(?<!:):([A-Za-z_]\w*)/g;

/**
 * A fixed statement written once with `:name` parameters: its text for each kind of database
 * (`$1` numbered on PostgreSQL, `?` in order on SQLite) is made the first time it runs there and
 * kept; on SQLite the statement also stays prepared (TypeORM's statement cache). The hot path of a
 * turn is made of these: no query building, no entity hydration, rows as the database returns
 * them (PostgreSQL gives BIGINT as text: read counts with `Number`).
 */
export class Sql<Row = Record<string, unknown>> {
  private readonly texts = new Map<string, { text: string; names: string[] }>();

  constructor(private readonly source: string) {}

  async execute(manager: EntityManager, parameters: Record<string, unknown> = {}): Promise<SqlResult<Row>> {
    const { text, names } = this.textFor(manager.connection.options.type);
    const values = names.map((name) => {
      if (!(name in parameters)) throw new Error(`SQL parameter :${name} not given`);
      return parameters[name];
    });
    const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
    try {
      const result = await runner.query(text, values, true);
      return { rows: (result.records ?? []) as Row[], affected: result.affected ?? 0 };
    } finally {
      if (!manager.queryRunner) await runner.release();
    }
  }

  /** The rows of a query. */
  async rows(manager: EntityManager, parameters: Record<string, unknown> = {}): Promise<Row[]> {
    return (await this.execute(manager, parameters)).rows;
  }

  private textFor(type: string): { text: string; names: string[] } {
    let made = this.texts.get(type);
    if (!made) {
      const names: string[] = [];
      const text = this.source.replace(NAMED, (_, name: string) => {
        if (type === 'postgres') {
          if (!names.includes(name)) names.push(name);
          return `$${names.indexOf(name) + 1}`;
        }
        names.push(name); // SQLite: one value per placeholder, in order
        return '?';
      });
      made = { text, names };
      this.texts.set(type, made);
    }
    return made;
  }
}
