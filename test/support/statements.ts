import type { DataSource } from 'typeorm';

/** A statement the database driver ran, as sent. */
export interface RanStatement {
  sql: string;
  /** The values bound, in placeholder order. */
  values: unknown[];
}

/**
 * Records every statement the app's database driver runs, below TypeORM: better-sqlite3's
 * prepared statements on SQLite (a cached statement counts each time it runs), the pg client's
 * queries on PostgreSQL. `stop()` undoes it.
 */
export function recordStatements(dataSource: DataSource): { ran: RanStatement[]; stop(): void } {
  const ran: RanStatement[] = [];
  const restore: (() => void)[] = [];
  const wrap = (prototype: Record<string, unknown>, method: string, read: (self: any, args: unknown[]) => RanStatement) => {
    const original = prototype[method] as (...args: unknown[]) => unknown;
    prototype[method] = function (this: unknown, ...args: unknown[]) {
      ran.push(read(this, args));
      return original.apply(this, args);
    };
    restore.push(() => (prototype[method] = original));
  };
  const driver = dataSource.driver as any;
  if (dataSource.options.type === 'postgres') {
    const client = driver.postgres.Client.prototype;
    wrap(client, 'query', (_self, [query, values]) =>
      typeof query === 'string'
        ? { sql: query, values: (values as unknown[]) ?? [] }
        : { sql: (query as { text: string }).text, values: (query as { values?: unknown[] }).values ?? [] },
    );
  } else {
    const statement = Object.getPrototypeOf(driver.databaseConnection.prepare('SELECT 1'));
    for (const method of ['run', 'all', 'get', 'iterate']) wrap(statement, method, (self, values) => ({ sql: self.source, values }));
  }
  return { ran, stop: () => restore.forEach((undo) => undo()) };
}

/** What a statement does, in a word and its tables: `SELECT chat_sessions+users`, `BEGIN`, `INSERT spend_ledger`. */
export function shapeOf(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = text.split(' ')[0].toUpperCase();
  const table = /\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(text)?.[1];
  const joined = [...text.matchAll(/\bJOIN\s+"?(\w+)"?/gi)].map((match) => match[1]);
  return table && ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(verb) ? `${verb} ${[table, ...joined].join('+')}` : verb;
}
