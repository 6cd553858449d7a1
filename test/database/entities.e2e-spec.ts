import { DataSource } from 'typeorm';
import { parseDatabaseUrl } from '../../src/config/environment.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { migrate } from '../../src/database/migrate.js';
import { ENTITIES } from '../../src/persistence.js';
import { createTestDatabase } from '../support/test-database.js';
import type { TestDatabase } from '../support/test-database.js';

/** A column as a schema knows it: enough to tell a drift. */
interface ColumnShape {
  type: string;
  nullable: boolean;
  primary: boolean;
}

/**
 * The migrations are the schema; the entities are how TypeORM reads and writes it (repositories
 * use them for their CRUD). The two must agree: every table an entity maps exists once migrated,
 * with exactly the entity's columns — same names, types, nullability and primary key.
 */
describe('Entities and migrations', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource(dataSourceOptions(parseDatabaseUrl(database.url), { entities: ENTITIES }));
    await dataSource.initialize();
    await migrate(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it.each(ENTITIES.map((entity) => [entity.name, entity]))('%s maps its migrated table column for column', async (_name, entity) => {
    const metadata = dataSource.getMetadata(entity);
    const runner = dataSource.createQueryRunner();
    const table = await runner.getTable(metadata.tableName).finally(() => runner.release());
    expect(table).toBeDefined();

    const normalise = (type: string) => dataSource.driver.normalizeType({ type }).toLowerCase();
    const mapped: Record<string, ColumnShape> = Object.fromEntries(
      metadata.columns.map((column) => [
        column.databaseName,
        { type: normalise(dataSource.driver.normalizeType(column)), nullable: column.isNullable, primary: column.isPrimary },
      ]),
    );
    const migrated: Record<string, ColumnShape> = Object.fromEntries(
      table!.columns.map((column) => [
        column.name,
        { type: normalise(column.type), nullable: column.isNullable, primary: column.isPrimary },
      ]),
    );
    expect(mapped).toEqual(migrated);
  });
});
