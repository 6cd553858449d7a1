import request from 'supertest';
import { createHash } from 'node:crypto';
import { count, createSession, errorBody } from '../support/http.js';
import { pdf, png, text, wav } from '../support/file-samples.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';
import { scrape } from '../support/metrics.js';

/** Files over this go through Gemini's Files API; the samples below are smaller unless made big. */
const INLINE_MAX = 2048;

type Part = { text?: string; inlineData?: { mimeType: string; data: string }; fileData?: { mimeType: string; fileUri: string } };
type Sent = { role: string; parts: Part[] };

async function upload(t: TestApp, userId: string, contentType: string, bytes: Buffer, name = 'sample'): Promise<string> {
  const response = await request(t.baseUrl).post('/files').query({ user_id: userId, name }).set('Content-Type', contentType).send(bytes);
  expect([200, 201]).toContain(response.status);
  return response.body.file_id as string;
}

function turn(t: TestApp, sessionId: string, body: Record<string, unknown>) {
  return request(t.baseUrl).post(`/sessions/${sessionId}/messages`).send(body);
}

const refs = (...ids: string[]) => ids.map((file_id) => ({ file_id }));

/** The contents of the `index`-th generate request Gemini received. */
function sentContents(t: TestApp, index = -1): Sent[] {
  return (t.emulator.generateRequests().at(index)!.body as { contents: Sent[] }).contents;
}

/** A part as the test reads it: text, inline bytes (decoded) or a file URI. */
function describe_(part: Part): unknown {
  if (part.inlineData) return { inline: part.inlineData.mimeType, bytes: Buffer.from(part.inlineData.data, 'base64') };
  if (part.fileData) return { uri: part.fileData.mimeType, fileUri: part.fileData.fileUri };
  return { text: part.text };
}

/** A PNG bigger than INLINE_MAX: a valid image followed by padding bytes in a chunk of its own. */
function bigPng(seed: number): Buffer {
  const image = png(seed, 800, 600);
  const iend = image.subarray(image.length - 12);
  const body = image.subarray(0, image.length - 12);
  const payload = Buffer.alloc(INLINE_MAX * 2, seed);
  const chunk = Buffer.alloc(12 + payload.length);
  chunk.writeUInt32BE(payload.length, 0);
  chunk.write('teXt', 4, 'latin1');
  payload.copy(chunk, 8);
  // The CRC is not checked by the signature table; Gemini's emulator reads only IHDR.
  return Buffer.concat([body, chunk, iend]);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('Attachments: files in a conversation', () => {
  const t = useTestApp({
    env: { FILE_INLINE_MAX_BYTES: String(INLINE_MAX), RATE_LIMIT_PER_MINUTE: '100000', GEMINI_RETRIES: '0', METRICS_ENABLED: 'true' },
  });

  /** How many times file bytes were read from the database for turns, so far. */
  const fileReads = async () => {
    const metrics = await scrape(t);
    return (
      metrics.sum('gemini_chat_file_reads_total', { purpose: 'inline' }) +
      metrics.sum('gemini_chat_file_reads_total', { purpose: 'files_api' })
    );
  };

  describe('a turn with files', () => {
    it('sends each file inline, as the stored bytes with their type, before the text; the user message lists them', async () => {
      const image = png(1, 64, 48);
      const document = pdf(3);
      const imageId = await upload(t, 'ann', 'image/png', image, 'chart.png');
      const pdfId = await upload(t, 'ann', 'application/pdf', document, 'contract.pdf');
      const sessionId = await createSession(t, { user_id: 'ann' });

      const response = await turn(t, sessionId, { message: 'What do these show?', attachments: refs(imageId, pdfId) }).expect(201);

      // Each is the File as it was when sent, and whether it was deleted since.
      const files = await Promise.all([imageId, pdfId].map((id) => request(t.baseUrl).get(`/files/${id}`).expect(200)));
      expect(files.map((file) => [file.body.modality, file.body.bytes, file.body.sha256])).toEqual([
        ['image', image.length, sha256(image)],
        ['document', document.length, sha256(document)],
      ]);
      expect(response.body.user_message.attachments).toEqual(files.map((file) => ({ ...file.body, deleted: false })));
      const [sent] = sentContents(t);
      expect(sent.role).toBe('user');
      expect(sent.parts.map(describe_)).toEqual([
        { inline: 'image/png', bytes: image },
        { inline: 'application/pdf', bytes: document },
        { text: 'What do these show?' },
      ]);
      // The emulator says what it received: the feature shows offline.
      expect(response.body.reply).toContain('I received 1 image and 1 PDF of 3 pages');
      // Stored with the message, and read back the same.
      const history = await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200);
      expect(history.body.messages[0].attachments).toEqual(response.body.user_message.attachments);
      expect(history.body.messages[1].attachments).toBeUndefined();
    });

    it('sends the files again with their turn on every later turn, so the model sees the file, not its own answer about it', async () => {
      const image = png(2, 32, 32);
      const imageId = await upload(t, 'bea', 'image/png', image);
      const sessionId = await createSession(t, { user_id: 'bea' });
      await turn(t, sessionId, { message: 'Look at this', attachments: refs(imageId) }).expect(201);
      await turn(t, sessionId, { message: 'And now?' }).expect(201);

      const contents = sentContents(t);
      expect(contents.map((content) => content.parts.map(describe_))).toEqual([
        [{ inline: 'image/png', bytes: image }, { text: 'Look at this' }],
        [{ text: expect.any(String) }],
        [{ text: 'And now?' }],
      ]);
    });

    it('takes an empty or absent message when there are files, and sends no empty text part', async () => {
      const id = await upload(t, 'cat', 'audio/wav', wav(100));
      const sessionId = await createSession(t, { user_id: 'cat' });
      const response = await turn(t, sessionId, { attachments: refs(id) }).expect(201);
      expect(response.body.user_message.content).toBe('');
      expect(sentContents(t)[0].parts.map(describe_)).toEqual([{ inline: 'audio/wav', bytes: wav(100) }]);
      // An untitled session is named after its files.
      const session = await request(t.baseUrl).get(`/sessions/${sessionId}`).expect(200);
      expect(session.body.title).toBe('sample');
      await turn(t, sessionId, { message: '', attachments: refs(id) }).expect(201);
    });

    it('sends a text file as what it is (text/plain), its bytes unchanged', async () => {
      const notes = text('Meeting at noon.\n');
      const id = await upload(t, 'dan', 'text/plain', notes, 'notes.txt');
      const sessionId = await createSession(t, { user_id: 'dan' });
      await turn(t, sessionId, { message: 'Summarise', attachments: refs(id) }).expect(201);
      expect(sentContents(t)[0].parts.map(describe_)).toEqual([{ inline: 'text/plain', bytes: notes }, { text: 'Summarise' }]);
    });
  });

  describe('reading the bytes', () => {
    it('reads each file of the context once a turn, however many turns carry it, and none whose copy at Gemini is good', async () => {
      const small = [png(20, 8, 8), png(21, 8, 8), png(22, 8, 8)];
      const ids = await Promise.all(small.map((bytes, i) => upload(t, 'rae', 'image/png', bytes, `small-${i}.png`)));
      const big = await upload(t, 'rae', 'image/png', bigPng(23), 'big.png');
      const sessionId = await createSession(t, { user_id: 'rae' });
      await turn(t, sessionId, { message: 'one', attachments: refs(ids[0], big) }).expect(201);
      await turn(t, sessionId, { message: 'two', attachments: refs(ids[1], ids[0]) }).expect(201);
      await turn(t, sessionId, { message: 'three', attachments: refs(ids[2]) }).expect(201);

      const before = await fileReads();
      await turn(t, sessionId, { message: 'four' }).expect(201);
      // Three inline files, each read once though ids[0] is carried twice; the big one goes by its URI, unread.
      expect((await fileReads()) - before).toBe(3);
      expect(t.emulator.uploads).toHaveLength(1);

      // A copy Gemini lost: only that file is read again (to upload it), the others are not read twice.
      t.emulator.expireAllFiles();
      const beforeRetry = await fileReads();
      await turn(t, sessionId, { message: 'five' }).expect(201);
      expect((await fileReads()) - beforeRetry).toBe(4);
      expect(t.emulator.uploads).toHaveLength(2);
    });
  });

  describe('retries and deleted files', () => {
    it('replays a retried turn (same Idempotency-Key) even after its file was deleted: no second turn, no 404', async () => {
      const id = await upload(t, 'sam', 'image/png', png(24));
      const sessionId = await createSession(t, { user_id: 'sam' });
      const body = { message: 'look', attachments: refs(id) };
      const first = await turn(t, sessionId, body).set('Idempotency-Key', 'turn-with-file').expect(201);
      await request(t.baseUrl).delete(`/files/${id}`).expect(204);
      const again = await turn(t, sessionId, body).set('Idempotency-Key', 'turn-with-file').expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.model_message.id).toBe(first.body.model_message.id);
      expect(t.emulator.generateRequests()).toHaveLength(1);
    });

    it("weighs a deleted file as the note sent in its place, not as the file: the estimate drops by the file's weight", async () => {
      const id = await upload(t, 'tia', 'application/pdf', pdf(40), 'long.pdf');
      const sessionId = await createSession(t, { user_id: 'tia', model: 'gemini-2.5-flash' });
      await turn(t, sessionId, { message: 'read', attachments: refs(id) }).expect(201);
      // Two messages of one weight: an identical estimate would be answered from the short estimate cache.
      const estimate = (message: string) => request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).send({ message }).expect(200);
      const withFile = (await estimate('and?')).body.prompt_tokens;
      await request(t.baseUrl).delete(`/files/${id}`).expect(204);
      const withNote = (await estimate('and!')).body.prompt_tokens;
      // 40 pages of 258 tokens went; a line of text came.
      expect(withFile - withNote).toBeGreaterThan(40 * 258 - 100);
      expect(withFile - withNote).toBeLessThanOrEqual(40 * 258);
    });
  });

  describe('what a turn refuses, before anything is sent or stored', () => {
    it.each([
      ['a blank message without files', { message: '  ' }, 'message'],
      ['no message and no files', {}, 'message'],
      ['an empty list and no message', { attachments: [] }, 'message'],
      ['a file id that is not one', { message: 'hi', attachments: [{ file_id: '../etc/passwd' }] }, 'attachments'],
      ['an attachment without a file id', { message: 'hi', attachments: [{}] }, 'attachments'],
      [
        'an unknown field in an attachment',
        { message: 'hi', attachments: [{ file_id: `file_${'a'.repeat(32)}`, url: 'x' }] },
        'attachments',
      ],
      ['attachments that are not a list', { message: 'hi', attachments: 'file_x' }, 'attachments'],
      [
        'eleven files',
        { message: 'hi', attachments: refs(...Array.from({ length: 11 }, (_, i) => `file_${String(i).padStart(32, '0')}`)) },
        'attachments',
      ],
      ['a message that is not text, with files', { message: 7, attachments: refs(`file_${'b'.repeat(32)}`) }, 'message'],
    ])('400 for %s, naming the field', async (_name, body, field) => {
      const sessionId = await createSession(t, { user_id: 'eve' });
      const response = await turn(t, sessionId, body).expect(400);
      expect(response.body).toMatchObject(errorBody(400, 'VALIDATION_FAILED'));
      expect(response.body.message).toContain(field);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });

    it('400 for a file listed twice', async () => {
      const id = await upload(t, 'fay', 'image/png', png(3));
      const sessionId = await createSession(t, { user_id: 'fay' });
      const response = await turn(t, sessionId, { message: 'hi', attachments: refs(id, id) }).expect(400);
      expect(response.body.message).toContain('attachments');
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });

    it("404 FILE_NOT_FOUND for another user's file or a missing one — as for sessions — and nothing is stored", async () => {
      const bobs = await upload(t, 'bob', 'image/png', png(4));
      const sessionId = await createSession(t, { user_id: 'gus' });
      const before = await count(t, 'chat_history');
      for (const id of [bobs, `file_${'0'.repeat(32)}`]) {
        const response = await turn(t, sessionId, { message: 'hi', attachments: refs(id) }).expect(404);
        expect(response.body).toMatchObject(errorBody(404, 'FILE_NOT_FOUND'));
      }
      expect(await count(t, 'chat_history')).toBe(before);
      expect(t.emulator.generateRequests()).toHaveLength(0);
    });
  });

  describe("Gemini's Files API, for files over FILE_INLINE_MAX_BYTES", () => {
    it('uploads a large file once, names it by URI, and reuses the URI on later turns', async () => {
      const image = bigPng(5);
      const id = await upload(t, 'hal', 'image/png', image, 'big.png');
      const sessionId = await createSession(t, { user_id: 'hal' });
      await turn(t, sessionId, { message: 'one', attachments: refs(id) }).expect(201);
      await turn(t, sessionId, { message: 'two' }).expect(201);

      expect(t.emulator.uploads).toHaveLength(1);
      expect(t.emulator.uploads[0]).toMatchObject({ mimeType: 'image/png', displayName: 'big.png' });
      expect(Buffer.compare(t.emulator.uploads[0].data, image)).toBe(0);
      const [uri] = t.emulator.storedFiles().map((file) => file.uri);
      for (const index of [0, 1]) {
        expect(sentContents(t, index)[0].parts.map(describe_)).toEqual([{ uri: 'image/png', fileUri: uri }, { text: 'one' }]);
      }
    });

    it('recovers from a 403 for a file Gemini no longer has: uploads it again and answers, one turn stored and billed', async () => {
      const id = await upload(t, 'ida', 'image/png', bigPng(6));
      const sessionId = await createSession(t, { user_id: 'ida' });
      await turn(t, sessionId, { message: 'one', attachments: refs(id) }).expect(201);
      const ledgerBefore = await count(t, 'spend_ledger');
      // Gemini lost it before our record says it expires (deleted at Gemini, or its clock ahead of ours).
      t.emulator.expireAllFiles();

      const second = await turn(t, sessionId, { message: 'two' }).expect(201);

      expect(second.body.model_message.content).toBeTruthy();
      expect(t.emulator.uploads).toHaveLength(2);
      const [fresh] = t.emulator.storedFiles();
      expect(sentContents(t)[0].parts[0]).toEqual({ fileData: { mimeType: 'image/png', fileUri: fresh.uri } });
      expect(await count(t, 'spend_ledger')).toBe(ledgerBefore + 1);
      const [row] = await t.query('SELECT uri FROM gemini_files WHERE file_id = ?', [id]);
      expect(row.uri).toBe(fresh.uri);
    });

    it('uploads again a copy an hour or less from expiry, before Gemini would refuse it', async () => {
      const id = await upload(t, 'jon', 'image/png', bigPng(7));
      const sessionId = await createSession(t, { user_id: 'jon' });
      await turn(t, sessionId, { message: 'one', attachments: refs(id) }).expect(201);
      // 47 h 30 min later, by our own record of the copy.
      await t.query('UPDATE gemini_files SET expires_at = ? WHERE file_id = ?', [new Date(Date.now() + 30 * 60_000).toISOString(), id]);
      await turn(t, sessionId, { message: 'two' }).expect(201);
      expect(t.emulator.uploads).toHaveLength(2);
      // Only successful calls: the stale URI was never sent.
      expect(t.emulator.generateRequests()).toHaveLength(2);
    });
  });

  describe('deleting a file', () => {
    it('keeps the message with deleted: true, sends a one-line note instead, deletes the copy at Gemini, and keeps the spend', async () => {
      const big = await upload(t, 'kim', 'image/png', bigPng(8), 'plan.png');
      const small = await upload(t, 'kim', 'application/pdf', pdf(1), 'memo.pdf');
      const sessionId = await createSession(t, { user_id: 'kim' });
      const first = await turn(t, sessionId, { message: 'one', attachments: refs(big, small) }).expect(201);
      const spent = await t.query('SELECT COUNT(*) AS n FROM spend_ledger WHERE session_id = ?', [sessionId]);
      const [copy] = t.emulator.storedFiles();

      await request(t.baseUrl).delete(`/files/${big}`).expect(204);
      await request(t.baseUrl).delete(`/files/${small}`).expect(204);

      const history = await request(t.baseUrl).get(`/sessions/${sessionId}/history`).expect(200);
      expect(history.body.messages[0].attachments.map((a: { name: string; deleted: boolean }) => [a.name, a.deleted])).toEqual([
        ['plan.png', true],
        ['memo.pdf', true],
      ]);
      const page = await request(t.baseUrl).get(`/sessions/${sessionId}/messages`).expect(200);
      expect(page.body.data[0].attachments.every((a: { deleted: boolean }) => a.deleted)).toBe(true);
      await waitFor('the copy deleted at Gemini', () => t.emulator.deletes.includes(copy.name));

      await turn(t, sessionId, { message: 'two' }).expect(201);
      const parts = sentContents(t)[0].parts;
      expect(parts).toHaveLength(3);
      expect(parts[0].text).toContain('"plan.png"');
      expect(parts[0].text).toContain('deleted');
      expect(parts[1].text).toContain('"memo.pdf"');
      expect(parts[2]).toEqual({ text: 'one' });
      // What the turn cost stays.
      const after = await t.query('SELECT COUNT(*) AS n FROM spend_ledger WHERE session_id = ?', [sessionId]);
      expect(Number(after[0].n)).toBe(Number(spent[0].n) + 1);
      expect(first.body.model_message.cost_usd).toBeGreaterThan(0);
    });

    it('deleting a user deletes their files and their copies at Gemini', async () => {
      const id = await upload(t, 'lou', 'image/png', bigPng(9));
      const sessionId = await createSession(t, { user_id: 'lou' });
      await turn(t, sessionId, { message: 'one', attachments: refs(id) }).expect(201);
      const [copy] = t.emulator.storedFiles();
      await request(t.baseUrl).delete('/users/lou').expect(204);
      const [files] = await t.query('SELECT COUNT(*) AS n FROM files WHERE user_id = ?', ['lou']);
      expect(Number(files.n)).toBe(0);
      await waitFor('the copy deleted at Gemini', () => t.emulator.deletes.includes(copy.name));
    });
  });

  describe('/chat and /estimate', () => {
    it('POST /chat takes attachments', async () => {
      const image = png(10, 16, 16);
      const id = await upload(t, 'max', 'image/png', image);
      const response = await request(t.baseUrl)
        .post('/chat')
        .send({ user_id: 'max', message: 'What is it?', attachments: refs(id) })
        .expect(200);
      expect(response.body.response).toContain('I received 1 image');
      expect(sentContents(t)[0].parts.map(describe_)).toEqual([{ inline: 'image/png', bytes: image }, { text: 'What is it?' }]);
    });

    it("counts a file's token weight in the estimate (Gemini's rules, not its bytes), as Gemini then counts it", async () => {
      const document = pdf(4);
      const id = await upload(t, 'ned', 'application/pdf', document);
      const sessionId = await createSession(t, { user_id: 'ned', model: 'gemini-2.5-flash' });
      const plain = await request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).send({ message: 'Read it' }).expect(200);
      const withFile = await request(t.baseUrl)
        .post(`/sessions/${sessionId}/estimate`)
        .send({ message: 'Read it', attachments: refs(id) })
        .expect(200);
      // Gemini 2.x: 258 tokens a PDF page.
      expect(withFile.body.prompt_tokens - plain.body.prompt_tokens).toBe(4 * 258);
      const sent = await turn(t, sessionId, { message: 'Read it', attachments: refs(id) }).expect(201);
      expect(sent.body.model_message.usage.prompt_tokens).toBe(withFile.body.prompt_tokens);
    });
  });

  describe('prices by modality', () => {
    it("prices an audio file's tokens at the audio rate in the estimate (Gemini 2.x: 32 tokens a second)", async () => {
      const models = (await request(t.baseUrl).get('/models').expect(200)).body as Record<string, any>[];
      const rates = models.find((m) => m.model === 'gemini-2.5-flash')!;
      expect(rates.input_audio_per_million_usd).toBeGreaterThan(rates.input_per_million_usd);
      const sound = wav(1000); // 1 s: 32 tokens
      expect(sound.length).toBeLessThan(INLINE_MAX * 8);
      const id = await upload(t, 'uma', 'audio/wav', sound);
      const sessionId = await createSession(t, { user_id: 'uma', model: 'gemini-2.5-flash' });
      const plain = (await request(t.baseUrl).post(`/sessions/${sessionId}/estimate`).send({ message: 'hear' }).expect(200)).body;
      const heard = (
        await request(t.baseUrl)
          .post(`/sessions/${sessionId}/estimate`)
          .send({ message: 'hear', attachments: refs(id) })
          .expect(200)
      ).body;
      expect(heard.prompt_tokens - plain.prompt_tokens).toBe(32);
      const textUsd = (plain.prompt_tokens * rates.input_per_million_usd) / 1e6;
      const audioUsd = (32 * rates.input_audio_per_million_usd) / 1e6;
      expect(heard.input_cost_usd).toBeCloseTo(textUsd + audioUsd, 12);
    });
  });

  describe('budgets', () => {
    // A small output cap: the worst case of a turn is then mostly its prompt, files included.
    const b = useTestApp({ env: { FILE_INLINE_MAX_BYTES: String(INLINE_MAX), GEMINI_MAX_OUTPUT_TOKENS: '50' } });

    it("reserves what a turn's files weigh: while an image turn is in flight, its reservation leaves no room for another turn", async () => {
      const models = await request(b.baseUrl).get('/models').expect(200);
      const rates = (models.body as { model: string; input_per_million_usd: number; output_per_million_usd: number }[]).find(
        (m) => m.model === 'gemini-2.5-flash',
      );
      const image = png(11, 3000, 3000); // 16 tiles of 258 tokens on Gemini 2.x: 4,128 tokens
      const id = await upload(b, 'ola', 'image/png', image);
      // A budget that a text turn's worst case fits and the image turn's does not, by a factor of
      // about 3 either way (the reservation may be at a replacement model's higher rates).
      const inputUsd = rates!.input_per_million_usd / 1e6;
      const outputUsd = rates!.output_per_million_usd / 1e6;
      const textWorst = 20 * inputUsd + b.settings.gemini.maxOutputTokens * outputUsd;
      const imageWorst = textWorst + 4128 * inputUsd;
      expect(imageWorst).toBeGreaterThan(textWorst * 9);
      await request(b.baseUrl)
        .patch('/users/ola')
        .send({ daily_budget_usd: Number(Math.sqrt(textWorst * imageWorst).toFixed(9)) })
        .expect(200);
      const [first, second] = [
        await createSession(b, { user_id: 'ola', model: 'gemini-2.5-flash' }),
        await createSession(b, { user_id: 'ola', model: 'gemini-2.5-flash' }),
      ];

      // Text turns reserve little: two at once are both admitted.
      b.emulator.enqueue({ text: 'slow', delayMs: 500 }, { text: 'fast' });
      const slowText = turn(b, first, { message: 'hi' }).then((response) => response.status);
      await waitFor('the first call at Gemini', () => b.emulator.generateRequests().length === 1);
      await turn(b, second, { message: 'hi' }).expect(201);
      expect(await slowText).toBe(201);

      // An image turn reserves its image: a turn sent meanwhile is refused before Gemini is called.
      b.emulator.enqueue({ text: 'slow', delayMs: 500 });
      const slowImage = turn(b, first, { message: 'hi', attachments: refs(id) }).then((response) => response.status);
      await waitFor('the image call at Gemini', () => b.emulator.generateRequests().length === 3);
      const refused = await turn(b, second, { message: 'hi' }).expect(429);
      expect(refused.body).toMatchObject(errorBody(429, 'BUDGET_EXCEEDED'));
      expect(await slowImage).toBe(201);
      expect(b.emulator.generateRequests()).toHaveLength(3);
    });
  });

  describe('exports', () => {
    it('list each message’s attachments, in JSON and in Markdown', async () => {
      const id = await upload(t, 'pia', 'application/pdf', pdf(2), 'report `final`.pdf');
      const sessionId = await createSession(t, { user_id: 'pia' });
      await turn(t, sessionId, { message: 'Read', attachments: refs(id) }).expect(201);
      const json = await request(t.baseUrl).get(`/sessions/${sessionId}/export`).expect(200);
      expect(json.body.messages[0].attachments).toEqual([
        expect.objectContaining({ file_id: id, name: 'report `final`.pdf', mime_type: 'application/pdf', deleted: false }),
      ]);
      const markdown = await request(t.baseUrl).get(`/sessions/${sessionId}/export`).query({ format: 'markdown' }).expect(200);
      expect(markdown.text).toContain('- Attachment: `` report `final`.pdf `` (application/pdf, ');
    });
  });
});
