import { createHash } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { isoMedia, jpeg, mp3, mp4, pdf, png, text, wav, webp } from '../support/file-samples.js';
import { errorBody } from '../support/http.js';
import { raw } from '../support/raw-http.js';
import { useTestApp } from '../support/test-app.js';
import type { TestApp } from '../support/test-app.js';

const FILE_MAX_BYTES = 4096;
const USER_STORAGE_BYTES = 8192;
const ADMIN_KEY = 'admin-key-for-the-files-suite-0123456789';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function upload(t: TestApp, query: Record<string, string>, contentType: string, bytes: Buffer, key?: string) {
  const call = request(t.baseUrl).post('/files').query(query).set('Content-Type', contentType);
  return (key ? call.set('Authorization', `Bearer ${key}`) : call).send(bytes);
}

/** GET of raw bytes, whatever their type: the body as a Buffer. */
function download(t: TestApp, path: string, key?: string) {
  const call = request(t.baseUrl).get(path);
  return (key ? call.set('Authorization', `Bearer ${key}`) : call).buffer(true).parse((response, done) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

async function storedFor(t: TestApp, userId: string): Promise<{ files: number; blobs: number }> {
  const [files] = await t.query('SELECT COUNT(*) AS n FROM files WHERE user_id = ?', [userId]);
  const [blobs] = await t.query('SELECT COUNT(*) AS n FROM file_blobs b JOIN files f ON f.file_id = b.file_id WHERE f.user_id = ?', [
    userId,
  ]);
  return { files: Number(files.n), blobs: Number(blobs.n) };
}

describe('Files: POST /files and the files resource', () => {
  const t = useTestApp({
    env: { FILE_MAX_BYTES: String(FILE_MAX_BYTES), USER_STORAGE_BYTES: String(USER_STORAGE_BYTES), RATE_LIMIT_PER_MINUTE: '100000' },
  });

  describe('upload', () => {
    it.each([
      ['a PNG', 'image/png', png(), 'image'],
      ['a JPEG', 'image/jpeg', jpeg(), 'image'],
      ['a WebP', 'image/webp', webp(), 'image'],
      ['a HEIC', 'image/heic', isoMedia('heic', ['mif1', 'heic']), 'image'],
      ['a PDF', 'application/pdf', pdf(), 'document'],
      ['a WAV', 'audio/wav', wav(), 'audio'],
      ['an MP3 frame', 'audio/mpeg', mp3(), 'audio'],
      ['an MP4', 'video/mp4', mp4(), 'video'],
      ['a QuickTime movie', 'video/quicktime', isoMedia('qt  ', ['qt  ']), 'video'],
      ['a 3GPP', 'video/3gpp', isoMedia('3gp4', ['3gp4']), 'video'],
      ['UTF-8 text', 'text/plain; charset=utf-8', text(), 'text'],
      ['Markdown', 'text/markdown', text('# Notes\n\n- one\n'), 'text'],
      ['CSV', 'text/csv', text('a,b\n1,2\n'), 'text'],
    ])('stores %s (201) and describes it as the contract says', async (_name, contentType, bytes, modality) => {
      const userId = `family-${modality}-${sha256(bytes).slice(0, 8)}`;
      const response = await upload(t, { user_id: userId, name: 'sample' }, contentType, bytes).expect(201);
      expect(response.body).toEqual({
        file_id: expect.stringMatching(/^file_[0-9a-f]{32}$/),
        user_id: userId,
        name: 'sample',
        mime_type: contentType.split(';')[0],
        modality,
        bytes: bytes.length,
        sha256: sha256(bytes),
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      const content = await download(t, `/files/${response.body.file_id}/content`).expect(200);
      expect(Buffer.compare(content.body as Buffer, bytes)).toBe(0);
    });

    it("stores a type under its one name whatever alias was sent (Gemini's audio/mp3)", async () => {
      const response = await upload(t, { user_id: 'alias' }, 'audio/mp3', mp3()).expect(201);
      expect(response.body).toMatchObject({ mime_type: 'audio/mpeg', modality: 'audio', name: 'file' });
    });

    it('creates an unknown user, and without user_id stores for "anonymous" in open mode', async () => {
      await upload(t, { user_id: 'brand-new' }, 'image/png', png(7)).expect(201);
      await request(t.baseUrl).get('/users/brand-new').expect(200);
      const anonymous = await upload(t, {}, 'image/png', png(8)).expect(201);
      expect(anonymous.body.user_id).toBe('anonymous');
    });

    it('answers the same bytes from the same user with 200 and the file stored before; another user gets their own', async () => {
      const first = await upload(t, { user_id: 'dedupe', name: 'a.png' }, 'image/png', png(1)).expect(201);
      const again = await upload(t, { user_id: 'dedupe', name: 'renamed.png' }, 'image/png', png(1)).expect(200);
      expect(again.body).toEqual(first.body);
      expect(await storedFor(t, 'dedupe')).toEqual({ files: 1, blobs: 1 });
      const other = await upload(t, { user_id: 'dedupe-2' }, 'image/png', png(1)).expect(201);
      expect(other.body.file_id).not.toBe(first.body.file_id);
    });

    it.each([
      ['PNG declared, PDF sent', 'image/png', pdf(), ['image/png', 'application/pdf']],
      ['PDF declared, PNG sent', 'application/pdf', png(), ['application/pdf', 'image/png']],
      ['MP4 declared, QuickTime sent', 'video/mp4', isoMedia('qt  '), ['video/mp4', 'video/quicktime']],
      ['JPEG declared, text sent', 'image/jpeg', text('not a picture'), ['image/jpeg', 'text/plain']],
      ['text declared, a PNG sent', 'text/plain', png(), ['text/plain', 'image/png']],
      ['text declared, invalid UTF-8 sent', 'text/plain', Buffer.from([0x63, 0x61, 0x66, 0xe9]), ['text/plain', 'UTF-8']],
      ['text declared, a NUL inside', 'text/csv', Buffer.from('a,b\0c'), ['text/csv', 'NUL']],
      ['text declared, an HTML page sent', 'text/plain', text('<!doctype html><script>alert(1)</script>'), ['text/plain', 'text/html']],
      ['Markdown declared, an SVG sent', 'text/markdown', text('<svg onload="alert(1)"/>'), ['text/markdown', 'image/svg+xml']],
    ])('refuses %s with 415 naming both, and stores nothing', async (_name, contentType, bytes, named) => {
      const response = await upload(t, { user_id: 'mismatch' }, contentType, bytes).expect(415);
      expect(response.body).toEqual(errorBody(415, 'UNSUPPORTED_MEDIA_TYPE'));
      for (const name of named) expect(response.body.message).toContain(name);
      expect(await storedFor(t, 'mismatch')).toEqual({ files: 0, blobs: 0 });
    });

    it.each([
      ['SVG', 'image/svg+xml', text('<svg xmlns="http://www.w3.org/2000/svg"/>')],
      ['HTML', 'text/html', text('<html></html>')],
      ['XHTML', 'application/xhtml+xml', text('<html xmlns="http://www.w3.org/1999/xhtml"/>')],
      ['a GIF', 'image/gif', Buffer.from('GIF89a')],
      ['octet-stream', 'application/octet-stream', png()],
      ['JSON', 'application/json', Buffer.from('{"a":1}')],
      ['form data', 'application/x-www-form-urlencoded', Buffer.from('a=1')],
    ])('never takes %s: 415 naming the type', async (_name, contentType, bytes) => {
      const response = await upload(t, { user_id: 'never' }, contentType, bytes).expect(415);
      expect(response.body).toEqual(errorBody(415, 'UNSUPPORTED_MEDIA_TYPE'));
      expect(response.body.message).toContain(contentType);
      expect(await storedFor(t, 'never')).toEqual({ files: 0, blobs: 0 });
    });

    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a name of 256 characters', { name: 'x'.repeat(256) }, 'name'],
      ['a name with a line break', { name: 'a\nb.png' }, 'name'],
      ['a name with a NUL', { name: 'a\0b.png' }, 'name'],
      ['a name with a right-to-left override', { name: 'photo\u202Egnp.exe' }, 'name'],
      ['a user id with a slash', { user_id: 'a/b' }, 'user_id'],
      ['an unknown parameter', { colour: 'red' }, 'colour'],
    ])('refuses %s with 400 naming the field', async (_name, query, field) => {
      const response = await upload(t, { user_id: 'names', ...query }, 'image/png', png()).expect(400);
      expect(response.body).toEqual(errorBody(400, 'VALIDATION_FAILED'));
      expect(response.body.message).toContain(field);
    });

    it('refuses an empty body with 400', async () => {
      const response = await upload(t, { user_id: 'empty' }, 'text/plain', Buffer.alloc(0)).expect(400);
      expect(response.body.message).toContain('empty');
    });

    it('takes a name of 255 characters in any script', async () => {
      const name = `${'é'.repeat(250)}.png`.slice(0, 255);
      const response = await upload(t, { user_id: 'long-name', name }, 'image/png', png(2)).expect(201);
      expect(response.body.name).toBe(name);
    });
  });

  describe('limits', () => {
    it('refuses a Content-Length over FILE_MAX_BYTES with 413 before reading the body, and closes the connection', async () => {
      const answer = await raw(
        t.baseUrl,
        `POST /files?user_id=big HTTP/1.1\nHost: 127.0.0.1\nContent-Type: image/png\nContent-Length: ${FILE_MAX_BYTES + 1}\n\n`,
      );
      expect(answer.status).toBe(413);
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(2_000); // no byte of the body was sent: nothing was waited for
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('4 KiB') });
      expect(await storedFor(t, 'big')).toEqual({ files: 0, blobs: 0 });
    });

    it('counts a chunked body while reading it and refuses it with 413 as it passes FILE_MAX_BYTES', async () => {
      const chunk = 'a'.repeat(FILE_MAX_BYTES + 100);
      const answer = await raw(
        t.baseUrl,
        `POST /files?user_id=chunked HTTP/1.1\nHost: 127.0.0.1\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\n` +
          `${chunk.length.toString(16)}\n${chunk}\n`,
      );
      expect(answer.status).toBe(413);
      expect(answer.closed).toBe(true);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(await storedFor(t, 'chunked')).toEqual({ files: 0, blobs: 0 });
    });

    it('takes a file of exactly FILE_MAX_BYTES', async () => {
      await upload(t, { user_id: 'at-limit' }, 'text/plain', Buffer.alloc(FILE_MAX_BYTES, 'x')).expect(201);
    });

    it('keeps the 1 MiB limit and JSON-only rule of every other route', async () => {
      const big = await raw(
        t.baseUrl,
        `POST /sessions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: ${1024 * 1024 + 1}\n\n`,
      );
      expect(big.status).toBe(413);
      await request(t.baseUrl).post('/sessions').set('Content-Type', 'image/png').send(png()).expect(415);
    });

    it("refuses a file past the user's USER_STORAGE_BYTES with 413 STORAGE_QUOTA_EXCEEDED; the same bytes again are not counted twice", async () => {
      const third = (n: number) => Buffer.alloc(3000, String(n));
      const first = await upload(t, { user_id: 'quota' }, 'text/plain', third(1)).expect(201);
      await upload(t, { user_id: 'quota' }, 'text/plain', third(2)).expect(201);
      const refused = await upload(t, { user_id: 'quota' }, 'text/plain', third(3)).expect(413);
      expect(refused.body).toEqual(errorBody(413, 'STORAGE_QUOTA_EXCEEDED'));
      expect(refused.body.message).toContain('8 KiB');
      // Dedup'd: answered with the file stored before, even at the quota.
      const again = await upload(t, { user_id: 'quota' }, 'text/plain', third(1)).expect(200);
      expect(again.body.file_id).toBe(first.body.file_id);
      expect(await storedFor(t, 'quota')).toEqual({ files: 2, blobs: 2 });
      // Deleting makes room.
      await request(t.baseUrl).delete(`/files/${first.body.file_id}`).expect(204);
      await upload(t, { user_id: 'quota' }, 'text/plain', third(3)).expect(201);
    });
    it('holds the quota for uploads sent at once: two of four fit, two are refused; the same bytes at once are one file', async () => {
      const third = (n: number) => Buffer.alloc(3000, `at-once-${n}`);
      const statuses = await Promise.all(
        [1, 2, 3, 4].map(async (n) => (await upload(t, { user_id: 'racer' }, 'text/plain', third(n))).status),
      );
      expect(statuses.sort()).toEqual([201, 201, 413, 413]);
      expect(await storedFor(t, 'racer')).toEqual({ files: 2, blobs: 2 });

      const same = Buffer.alloc(1000, 'twins');
      const answers = await Promise.all([1, 2, 3].map(() => upload(t, { user_id: 'twins' }, 'text/plain', same)));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(answers.map((answer) => answer.body.file_id)).size).toBe(1);
      expect(await storedFor(t, 'twins')).toEqual({ files: 1, blobs: 1 });
    });

    it.each(['/files/', '/Files', '/FILES/'])('takes an upload at %s, as Express routes it, with the same rules', async (path) => {
      await request(t.baseUrl)
        .post(path)
        .query({ user_id: `pathed${path.replace(/\W/g, '-')}` })
        .set('Content-Type', 'image/png')
        .send(png())
        .expect(201);
      const empty = await request(t.baseUrl).post(path).set('Content-Type', 'text/plain').send(Buffer.alloc(0));
      expect(empty.status).toBe(400);
      const large = await raw(
        t.baseUrl,
        `POST ${path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: text/plain\nContent-Length: ${FILE_MAX_BYTES + 1}\n\n`,
      );
      expect(large.status).toBe(413);
    });
  });

  describe('reading and deleting', () => {
    it("lists a user's files newest first, a page at a time, without skipping or repeating one", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await upload(t, { user_id: 'pager' }, 'image/png', png(100 + i)).expect(201)).body.file_id);
      const seen: string[] = [];
      let after: string | null = null;
      const sizes: number[] = [];
      do {
        const query: Record<string, string | number> = { user_id: 'pager', limit: 3 };
        if (after !== null) query.after = after;
        const page = (await request(t.baseUrl).get('/files').query(query).expect(200)).body;
        sizes.push(page.data.length);
        seen.push(...page.data.map((file: { file_id: string }) => file.file_id));
        expect(page.has_more).toBe(page.next_cursor !== null);
        after = page.next_cursor;
      } while (after !== null);
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual([...ids].reverse());
      const empty = (await request(t.baseUrl).get('/files').query({ user_id: 'nobody-at-all' }).expect(200)).body;
      expect(empty).toEqual({ data: [], has_more: false, next_cursor: null });
    });

    it.each([
      ['limit=0', { user_id: 'x', limit: 0 }, 'limit'],
      ['a forged cursor', { user_id: 'x', after: 'bm90LWEtY3Vyc29y' }, 'after'],
      ['no user_id', {}, 'user_id'],
    ])('refuses a list with %s with 400', async (_name, query, field) => {
      const response = await request(t.baseUrl).get('/files').query(query).expect(400);
      expect(response.body.message).toContain(field);
    });

    it('gets a file by id', async () => {
      const stored = (await upload(t, { user_id: 'getter', name: 'g.pdf' }, 'application/pdf', pdf()).expect(201)).body;
      expect((await request(t.baseUrl).get(`/files/${stored.file_id}`).expect(200)).body).toEqual(stored);
    });

    it('serves the exact bytes as an attachment that is never rendered or sniffed', async () => {
      const bytes = png(42);
      const stored = (await upload(t, { user_id: 'downloader', name: 'Übersicht "Q3".png' }, 'image/png', bytes).expect(201)).body;
      const response = await download(t, `/files/${stored.file_id}/content`).expect(200);
      expect(Buffer.compare(response.body as Buffer, bytes)).toBe(0);
      expect(response.headers['content-type']).toBe('image/png');
      expect(response.headers['content-length']).toBe(String(bytes.length));
      expect(response.headers['content-disposition']).toBe(
        `attachment; filename="_bersicht _Q3_.png"; filename*=UTF-8''%C3%9Cbersicht%20%22Q3%22.png`,
      );
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toBe('sandbox');
    });

    it('serves text as UTF-8', async () => {
      const bytes = text('# Über\n');
      const stored = (await upload(t, { user_id: 'downloader' }, 'text/markdown', bytes).expect(201)).body;
      const response = await download(t, `/files/${stored.file_id}/content`).expect(200);
      expect(response.headers['content-type']).toBe('text/markdown; charset=utf-8');
      expect(response.headers['content-disposition']).toBe('attachment; filename="file"');
      expect(Buffer.compare(response.body as Buffer, bytes)).toBe(0);
    });

    it('deletes a file with 204, its bytes with it; then it is 404 FILE_NOT_FOUND everywhere', async () => {
      const stored = (await upload(t, { user_id: 'deleter' }, 'audio/wav', wav()).expect(201)).body;
      await request(t.baseUrl).delete(`/files/${stored.file_id}`).expect(204);
      expect(await storedFor(t, 'deleter')).toEqual({ files: 0, blobs: 0 });
      const [blobs] = await t.query('SELECT COUNT(*) AS n FROM file_blobs WHERE file_id = ?', [stored.file_id]);
      expect(Number(blobs.n)).toBe(0);
      for (const call of [
        request(t.baseUrl).get(`/files/${stored.file_id}`),
        request(t.baseUrl).get(`/files/${stored.file_id}/content`),
        request(t.baseUrl).delete(`/files/${stored.file_id}`),
      ]) {
        const response: Response = await call.expect(404);
        expect(response.body).toEqual(errorBody(404, 'FILE_NOT_FOUND'));
      }
    });

    it.each(['file_00000000000000000000000000000000', 'not-a-file', "file_'; DROP TABLE files; --", 'file_%00'])(
      'answers 404 FILE_NOT_FOUND for the id %s',
      async (id) => {
        const response = await request(t.baseUrl)
          .get(`/files/${encodeURIComponent(id)}`)
          .expect(404);
        expect(response.body).toEqual(errorBody(404, 'FILE_NOT_FOUND'));
      },
    );

    it("deletes a user's files and their bytes with the user", async () => {
      await upload(t, { user_id: 'leaving' }, 'image/png', png(3)).expect(201);
      await upload(t, { user_id: 'leaving' }, 'application/pdf', pdf()).expect(201);
      expect(await storedFor(t, 'leaving')).toEqual({ files: 2, blobs: 2 });
      const [before] = await t.query('SELECT COUNT(*) AS n FROM file_blobs');
      await request(t.baseUrl).delete('/users/leaving').expect(204);
      expect(await storedFor(t, 'leaving')).toEqual({ files: 0, blobs: 0 });
      const [after] = await t.query('SELECT COUNT(*) AS n FROM file_blobs');
      expect(Number(after.n)).toBe(Number(before.n) - 2);
    });
  });

  describe('the OpenAPI document', () => {
    it('describes the upload as raw bytes of the accepted types, and its answers', async () => {
      const document = (await request(t.baseUrl).get('/docs-json').expect(200)).body;
      const post = document.paths['/files'].post;
      expect(Object.keys(post.requestBody.content)).toEqual(
        expect.arrayContaining(['image/png', 'application/pdf', 'audio/mpeg', 'text/csv']),
      );
      expect(Object.keys(post.requestBody.content)).not.toContain('image/svg+xml');
      expect(post.requestBody.content['image/png'].schema).toEqual({ type: 'string', format: 'binary' });
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '404', '413', '415', '429']));
      const content = document.paths['/files/{file_id}/content'].get;
      expect(Object.keys(content.responses['200'].headers)).toEqual(
        expect.arrayContaining(['Content-Disposition', 'X-Content-Type-Options', 'Content-Security-Policy']),
      );
      expect(document.paths['/files/{file_id}'].delete.responses['204']).toBeDefined();
    });
  });
});

describe('Files: uploads count against RATE_LIMIT_PER_MINUTE', () => {
  const t = useTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } });

  it('refuses the (N+1)th upload or session of a caller with 429, storing nothing', async () => {
    await request(t.baseUrl).post('/sessions').send({ user_id: 'uploader' }).expect(201);
    await upload(t, { user_id: 'uploader' }, 'image/png', png(1)).expect(201);
    await upload(t, { user_id: 'uploader' }, 'image/png', png(1)).expect(200); // a re-upload is an upload too
    const refused = await upload(t, { user_id: 'uploader' }, 'image/png', png(2)).expect(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('uploads') });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await storedFor(t, 'uploader')).toEqual({ files: 1, blobs: 1 });
    await request(t.baseUrl).post('/sessions').send({ user_id: 'uploader' }).expect(429);
    // Another caller (open mode: another user) has a window of their own.
    await upload(t, { user_id: 'someone-else' }, 'image/png', png(2)).expect(201);
  });
});

describe('Files: access with keys (ADMIN_API_KEY set)', () => {
  const t = useTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_PER_MINUTE: '100000' } });
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    for (const user of ['alice', 'mallory']) {
      await request(t.baseUrl).post('/users').set('Authorization', `Bearer ${ADMIN_KEY}`).send({ user_id: user }).expect(201);
      keys[user] = (
        await request(t.baseUrl).post(`/users/${user}/api-keys`).set('Authorization', `Bearer ${ADMIN_KEY}`).expect(201)
      ).body.key;
    }
  });

  it("uploads for the key's own user when user_id is absent, and keeps the file from every other user's key", async () => {
    const stored = (await upload(t, { name: 'mine.png' }, 'image/png', png(9), keys.alice).expect(201)).body;
    expect(stored.user_id).toBe('alice');

    await request(t.baseUrl).get(`/files/${stored.file_id}`).set('Authorization', `Bearer ${keys.alice}`).expect(200);
    await request(t.baseUrl).get(`/files/${stored.file_id}`).set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    await request(t.baseUrl).get('/files?user_id=alice').set('Authorization', `Bearer ${keys.alice}`).expect(200);

    // Mallory learns nothing: the same 404 as a file that does not exist.
    for (const call of [
      request(t.baseUrl).get(`/files/${stored.file_id}`),
      request(t.baseUrl).get(`/files/${stored.file_id}/content`),
      request(t.baseUrl).delete(`/files/${stored.file_id}`),
    ]) {
      const response: Response = await call.set('Authorization', `Bearer ${keys.mallory}`).expect(404);
      expect(response.body).toEqual(errorBody(404, 'FILE_NOT_FOUND'));
    }
    const list = await request(t.baseUrl).get('/files?user_id=alice').set('Authorization', `Bearer ${keys.mallory}`).expect(404);
    expect(list.body.code).toBe('USER_NOT_FOUND');
    const foreign = await upload(t, { user_id: 'alice' }, 'image/png', png(10), keys.mallory).expect(404);
    expect(foreign.body.code).toBe('USER_NOT_FOUND');
    expect(await storedFor(t, 'alice')).toEqual({ files: 1, blobs: 1 });
  });

  it('lets the admin key upload for any user', async () => {
    const stored = (await upload(t, { user_id: 'mallory' }, 'image/png', png(11), ADMIN_KEY).expect(201)).body;
    expect(stored.user_id).toBe('mallory');
  });

  it('refuses an upload without a valid key with 401 before reading it', async () => {
    const answer = await raw(
      t.baseUrl,
      `POST /files?user_id=alice HTTP/1.1\nHost: 127.0.0.1\nContent-Type: image/png\nContent-Length: 100\n\n`,
    );
    expect(answer.status).toBe(401);
    expect(answer.closed).toBe(true);
    await request(t.baseUrl).get('/files?user_id=alice').expect(401);
  });
});
