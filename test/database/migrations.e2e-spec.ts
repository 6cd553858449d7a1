import { DataSource } from 'typeorm';
import { parseDatabaseUrl } from '../../src/config/environment.js';
import { dataSourceOptions, MIGRATIONS } from '../../src/database/data-source-options.js';
import { migrate } from '../../src/database/migrate.js';
import { LongConversations1764400000000 } from '../../src/database/migrations/1764400000000-long-conversations.js';
import { SpendLedger1764100000000 } from '../../src/database/migrations/1764100000000-spend-ledger.js';
import { Files1764500000000 } from '../../src/database/migrations/1764500000000-files.js';
import { createTestDatabase, rawSql } from '../support/test-database.js';
import type { TestDatabase } from '../support/test-database.js';

/** A database as the release before the spend ledger left it, upgraded by the migrations that follow. */
describe('Migrating a database with turns in it', () => {
  let database: TestDatabase;
  const open = async (migrations: typeof MIGRATIONS) => {
    const dataSource = new DataSource({ ...dataSourceOptions(parseDatabaseUrl(database.url)), migrations });
    await dataSource.initialize();
    await migrate(dataSource);
    return dataSource;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('copies every stored turn into the spend ledger, the daily totals and the session totals', async () => {
    const before = await open(MIGRATIONS.slice(0, MIGRATIONS.indexOf(SpendLedger1764100000000)));
    const old = rawSql(database, before);
    await old.query(
      "INSERT INTO users (user_id, created_at) VALUES ('alice', '2026-11-01T00:00:00.000Z'), ('bob', '2026-11-01T00:00:00.000Z')",
    );
    const session = (id: string, user: string) =>
      old.query(
        "INSERT INTO chat_sessions (chat_id, user_id, model, created_at, updated_at) VALUES (?, ?, 'gemini-2.5-flash', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
        [id, user],
      );
    const A = '00000000-0000-4000-8000-00000000000a';
    const B = '00000000-0000-4000-8000-00000000000b';
    const C = '00000000-0000-4000-8000-00000000000c';
    await session(A, 'alice');
    await session(B, 'alice');
    await session(C, 'bob');
    const turn = async (chat: string, at: string, model: string | null, tokens: number, cost: number | null) => {
      await old.query("INSERT INTO chat_history (chat_id, timestamp, role, content) VALUES (?, ?, 'user', 'q')", [chat, at]);
      await old.query(
        `INSERT INTO chat_history (chat_id, timestamp, role, content, model, prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status)
         VALUES (?, ?, 'model', 'a', ?, ?, 1, ?, ?, ?)`,
        [chat, at, model, tokens - 1, tokens, cost, cost === null ? 'unpriced' : 'priced'],
      );
    };
    await turn(A, '2026-11-20T10:00:00.000Z', 'gemini-2.5-flash', 10, 1_000);
    await turn(A, '2026-11-20T23:59:59.999Z', 'gemini-2.5-flash-lite', 20, 2_000);
    await turn(B, '2026-11-21T00:00:00.000Z', null, 30, null);
    await turn(C, '2026-11-21T08:00:00.000Z', 'gemini-2.5-flash', 40, 4_000);
    await before.destroy();

    const after = await open(MIGRATIONS);
    const sql = rawSql(database, after);
    try {
      expect(
        await sql.query(
          'SELECT user_id, session_id, model, prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status, created_at FROM spend_ledger ORDER BY id',
        ),
      ).toEqual([
        {
          user_id: 'alice',
          session_id: A,
          model: 'gemini-2.5-flash',
          prompt_tokens: 9,
          output_tokens: 1,
          total_tokens: 10,
          cost_nano_usd: 1_000,
          cost_status: 'priced',
          created_at: '2026-11-20T10:00:00.000Z',
        },
        {
          user_id: 'alice',
          session_id: A,
          model: 'gemini-2.5-flash-lite',
          prompt_tokens: 19,
          output_tokens: 1,
          total_tokens: 20,
          cost_nano_usd: 2_000,
          cost_status: 'priced',
          created_at: '2026-11-20T23:59:59.999Z',
        },
        // A row without a model was answered by its session's model.
        {
          user_id: 'alice',
          session_id: B,
          model: 'gemini-2.5-flash',
          prompt_tokens: 29,
          output_tokens: 1,
          total_tokens: 30,
          cost_nano_usd: null,
          cost_status: 'unpriced',
          created_at: '2026-11-21T00:00:00.000Z',
        },
        {
          user_id: 'bob',
          session_id: C,
          model: 'gemini-2.5-flash',
          prompt_tokens: 39,
          output_tokens: 1,
          total_tokens: 40,
          cost_nano_usd: 4_000,
          cost_status: 'priced',
          created_at: '2026-11-21T08:00:00.000Z',
        },
      ]);
      expect(await sql.query('SELECT user_id, day, turns, cost_nano_usd FROM spend_daily ORDER BY user_id, day')).toEqual([
        { user_id: 'alice', day: '2026-11-20', turns: 2, cost_nano_usd: 3_000 },
        { user_id: 'alice', day: '2026-11-21', turns: 1, cost_nano_usd: 0 },
        { user_id: 'bob', day: '2026-11-21', turns: 1, cost_nano_usd: 4_000 },
      ]);
      expect(
        await sql.query('SELECT chat_id, message_count, total_tokens, total_cost_nano_usd FROM chat_sessions ORDER BY chat_id'),
      ).toEqual([
        { chat_id: A, message_count: 4, total_tokens: 30, total_cost_nano_usd: 3_000 },
        { chat_id: B, message_count: 2, total_tokens: 30, total_cost_nano_usd: 0 },
        { chat_id: C, message_count: 2, total_tokens: 40, total_cost_nano_usd: 4_000 },
      ]);
    } finally {
      await sql.close();
      await after.destroy();
    }
  });

  it('gives every stored turn what it was priced as and what it was sent with, and every session the weight of its last turn', async () => {
    const upgraded = await createTestDatabase();
    const openOn = async (migrations: typeof MIGRATIONS) => {
      const dataSource = new DataSource({ ...dataSourceOptions(parseDatabaseUrl(upgraded.url)), migrations });
      await dataSource.initialize();
      await migrate(dataSource);
      return dataSource;
    };
    try {
      const before = await openOn(MIGRATIONS.slice(0, MIGRATIONS.indexOf(LongConversations1764400000000)));
      const old = rawSql(upgraded, before);
      const A = '00000000-0000-4000-8000-0000000000aa';
      const B = '00000000-0000-4000-8000-0000000000bb';
      await old.query("INSERT INTO users (user_id, created_at) VALUES ('carol', '2026-11-01T00:00:00.000Z')");
      for (const id of [A, B]) {
        await old.query(
          "INSERT INTO chat_sessions (chat_id, user_id, model, created_at, updated_at) VALUES (?, 'carol', 'gemini-2.5-flash', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
          [id],
        );
      }
      const turn = async (chat: string, prompt: number, output: number, status: 'priced' | 'unpriced', model = 'gemini-2.5-flash') => {
        await old.query(
          "INSERT INTO chat_history (chat_id, timestamp, role, content) VALUES (?, '2026-11-20T10:00:00.000Z', 'user', 'q')",
          [chat],
        );
        await old.query(
          `INSERT INTO chat_history (chat_id, timestamp, role, content, model, prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status)
           VALUES (?, '2026-11-20T10:00:00.000Z', 'model', 'a', ?, ?, ?, ?, ?, ?)`,
          [chat, model, prompt, output, prompt + output, status === 'priced' ? 1_000 : null, status],
        );
        await old.query(
          "INSERT INTO spend_ledger (user_id, session_id, model, prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status, created_at) VALUES ('carol', ?, ?, ?, ?, ?, ?, ?, '2026-11-20T10:00:00.000Z')",
          [chat, model, prompt, output, prompt + output, status === 'priced' ? 1_000 : null, status],
        );
      };
      await turn(A, 10, 5, 'priced');
      await turn(A, 30, 7, 'priced');
      await turn(A, 50, 9, 'unpriced');
      // Answered by a version of a priced model, and by a model the table of the day did not have.
      await turn(B, 10, 1, 'priced', 'gemini-2.5-pro-001');
      await turn(B, 12, 1, 'priced', 'gemini-3.8-flash');
      await before.destroy();

      const after = await openOn(MIGRATIONS);
      const sql = rawSql(upgraded, after);
      try {
        const models = await sql.query(
          "SELECT id, priced_as, context_messages, context_first_message_id, context_truncated FROM chat_history WHERE role = 'model' ORDER BY id",
        );
        const [first] = await sql.query('SELECT MIN(id) AS id FROM chat_history');
        const [firstOfB] = await sql.query('SELECT MIN(id) AS id FROM chat_history WHERE chat_id = ?', [B]);
        expect(
          models.map(({ priced_as, context_messages, context_first_message_id, context_truncated }) => [
            priced_as,
            context_messages,
            context_first_message_id,
            Boolean(context_truncated),
          ]),
        ).toEqual([
          ['gemini-2.5-flash', 0, null, false],
          ['gemini-2.5-flash', 2, Number(first.id), false],
          [null, 4, Number(first.id), false],
          ['gemini-2.5-pro', 0, null, false],
          ['gemini-2.5-flash', 2, Number(firstOfB.id), false],
        ]);
        // The turn answered by a model without a price of the day was priced at its session's model's rates: estimated.
        const statuses = await sql.query("SELECT cost_status FROM chat_history WHERE role = 'model' ORDER BY id");
        expect(statuses.map((row) => row.cost_status)).toEqual(['priced', 'priced', 'unpriced', 'priced', 'estimated']);
        expect(await sql.query('SELECT priced_as, cost_status FROM spend_ledger ORDER BY id')).toEqual([
          { priced_as: 'gemini-2.5-flash', cost_status: 'priced' },
          { priced_as: 'gemini-2.5-flash', cost_status: 'priced' },
          { priced_as: null, cost_status: 'unpriced' },
          { priced_as: 'gemini-2.5-pro', cost_status: 'priced' },
          { priced_as: 'gemini-2.5-flash', cost_status: 'estimated' },
        ]);
        expect(
          await sql.query('SELECT chat_id, context_tokens, truncation, max_context_tokens FROM chat_sessions ORDER BY chat_id'),
        ).toEqual([
          { chat_id: A, context_tokens: 59, truncation: 'auto', max_context_tokens: null },
          { chat_id: B, context_tokens: 13, truncation: 'auto', max_context_tokens: null },
        ]);
      } finally {
        await sql.close();
        await after.destroy();
      }
    } finally {
      await upgraded.drop();
    }
  });
});

/** A database as the release that brought files left it, upgraded to usage by modality and files in turns. */
describe('Migrating a database with files and turns in it', () => {
  it('keeps every file with its bytes, reads old turns as text and audio only, and old messages as carrying no file', async () => {
    const database = await createTestDatabase();
    const open = async (migrations: typeof MIGRATIONS) => {
      const dataSource = new DataSource({ ...dataSourceOptions(parseDatabaseUrl(database.url)), migrations });
      await dataSource.initialize();
      await migrate(dataSource);
      return dataSource;
    };
    try {
      const before = await open(MIGRATIONS.slice(0, MIGRATIONS.indexOf(Files1764500000000) + 1));
      const old = rawSql(database, before);
      const at = '2026-12-01T10:00:00.000Z';
      const bytes = Buffer.from('%PDF-1.4\n<< /Type /Page >>\n%%EOF');
      try {
        await old.query('INSERT INTO users (user_id, created_at) VALUES (?, ?)', ['ann', at]);
        await old.query(
          "INSERT INTO chat_sessions (chat_id, user_id, model, created_at, updated_at) VALUES (?, 'ann', 'gemini-2.5-flash', ?, ?)",
          [SESSION, at, at],
        );
        await old.query("INSERT INTO chat_history (chat_id, timestamp, role, content) VALUES (?, ?, 'user', 'q')", [SESSION, at]);
        await old.query(
          `INSERT INTO chat_history (chat_id, timestamp, role, content, model, prompt_tokens, audio_prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status)
           VALUES (?, ?, 'model', 'a', 'gemini-2.5-flash', 100, 40, 10, 110, 5000, 'priced')`,
          [SESSION, at],
        );
        await old.query(
          `INSERT INTO spend_ledger (user_id, session_id, model, prompt_tokens, audio_prompt_tokens, output_tokens, total_tokens, cost_nano_usd, cost_status, created_at)
           VALUES ('ann', ?, 'gemini-2.5-flash', 100, 40, 10, 110, 5000, 'priced', ?)`,
          [SESSION, at],
        );
        await old.query(
          "INSERT INTO files (file_id, user_id, name, mime_type, modality, bytes, sha256, created_at) VALUES (?, 'ann', 'a.pdf', 'application/pdf', 'document', ?, 'x', ?)",
          [FILE, bytes.length, at],
        );
        await old.query('INSERT INTO file_blobs (file_id, content) VALUES (?, ?)', [FILE, bytes]);
      } finally {
        await old.close();
        await before.destroy();
      }

      const after = await open(MIGRATIONS);
      const sql = rawSql(database, after);
      try {
        const [file] = await sql.query(
          'SELECT f.width, f.pages, f.duration_ms, b.content FROM files f JOIN file_blobs b ON b.file_id = f.file_id',
        );
        expect({ ...file, content: Buffer.from(file.content) }).toEqual({ width: null, pages: null, duration_ms: null, content: bytes });
        const rows = await sql.query(
          'SELECT role, attachments, image_prompt_tokens, document_prompt_tokens, audio_prompt_tokens FROM chat_history ORDER BY id',
        );
        expect(
          rows.map((row) => [
            row.role,
            row.attachments,
            row.image_prompt_tokens,
            row.document_prompt_tokens,
            Number(row.audio_prompt_tokens ?? 0),
          ]),
        ).toEqual([
          ['user', null, null, null, 0],
          ['model', null, null, null, 40],
        ]);
        const [ledger] = await sql.query('SELECT image_prompt_tokens, video_prompt_tokens, document_prompt_tokens FROM spend_ledger');
        expect(Object.values(ledger).map(Number)).toEqual([0, 0, 0]);
        const [copies] = await sql.query('SELECT COUNT(*) AS n FROM gemini_files');
        expect(Number(copies.n)).toBe(0);
      } finally {
        await sql.close();
        await after.destroy();
      }
    } finally {
      await database.drop();
    }
  });
});

const SESSION = '00000000-0000-4000-8000-0000000000f1';
const FILE = `file_${'f'.repeat(32)}`;
