import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { PoolRef, ROUTES } from './fuzz-arbitraries.js';
import type { BodySpec, IdSpec, RequestSpec } from './fuzz-arbitraries.js';
import { encodeSegment, headerValue } from './fuzz-client.js';
import type { FuzzRequest } from './fuzz-client.js';

const POOL_SIZE = 64;
const FALLBACK = {
  session: '00000000-0000-4000-8000-000000000000',
  owner: 'fuzz-nobody',
  user: 'fuzz-nobody',
  key: '0000000000000000',
  apikey: `gca_0000000000000000.${'A'.repeat(43)}`,
};

/**
 * What exists on the server, read back from its database after every successful request, so
 * that generated requests can name real sessions, users and API keys.
 */
export class World {
  /** Newest first. */
  sessions: string[] = [];
  /** The owner of each of `sessions`. */
  owners: string[] = [];
  users: string[] = [];
  keyIds: string[] = [];
  /** Every API key issued during the run (newest first), live or not: revoked ones must fail too. */
  issuedKeys: string[] = [];

  constructor(private readonly dataSource: DataSource) {}

  async sync(): Promise<void> {
    const [sessions, users, keys] = await Promise.all([
      this.dataSource.query(`SELECT chat_id AS id, user_id AS owner FROM chat_sessions ORDER BY created_at DESC LIMIT ${POOL_SIZE}`),
      this.dataSource.query(`SELECT user_id AS id FROM users ORDER BY created_at DESC LIMIT ${POOL_SIZE}`),
      this.dataSource.query(`SELECT key_id AS id FROM api_keys ORDER BY created_at DESC LIMIT ${POOL_SIZE}`),
    ]);
    this.sessions = (sessions as { id: string }[]).map((row) => row.id);
    this.owners = (sessions as { owner: string }[]).map((row) => row.owner);
    this.users = (users as { id: string }[]).map((row) => row.id);
    this.keyIds = (keys as { id: string }[]).map((row) => row.id);
  }

  learnIssuedKey(key: string): void {
    this.issuedKeys.unshift(key);
  }

  /** A token is a live user key when it was issued and its key id is still stored. */
  isLiveUserKey(token: string): boolean {
    const keyId = /^gca_([0-9a-f]{16})\./.exec(token)?.[1];
    return keyId !== undefined && this.issuedKeys.includes(token) && this.keyIds.includes(keyId);
  }

  resolve(ref: PoolRef): string {
    const lists = { session: this.sessions, owner: this.owners, user: this.users, key: this.keyIds, apikey: this.issuedKeys };
    const list = lists[ref.pool];
    return list.length === 0 ? FALLBACK[ref.pool] : list[ref.index % list.length];
  }

  private segment(id: IdSpec): string {
    return id instanceof PoolRef ? encodeSegment(this.resolve(id)) : id.segment;
  }

  /** The bytes and headers of a generated request, with its references resolved. */
  build(spec: RequestSpec): FuzzRequest {
    const route = ROUTES[spec.route];
    let param = 0;
    const path =
      '/' +
      route.segments.map((segment) => (typeof segment === 'string' ? segment : this.segment(spec.ids[param++]))).join('/') +
      (spec.headers.suffix ?? '');
    const headers: Record<string, string> = {};
    const { accept, idempotencyKey, authorization, requestId } = spec.headers;
    if (accept !== undefined) headers.accept = headerValue(accept);
    if (idempotencyKey !== undefined) headers['idempotency-key'] = headerValue(idempotencyKey);
    if (authorization !== undefined) {
      headers.authorization = authorization instanceof PoolRef ? `Bearer ${this.resolve(authorization)}` : headerValue(authorization);
    }
    if (requestId !== undefined) headers['x-request-id'] = headerValue(requestId);
    const { body, contentType, contentEncoding } = this.body(spec.body);
    if (contentType !== null) headers['content-type'] = headerValue(contentType);
    if (contentEncoding !== null) headers['content-encoding'] = contentEncoding;
    return { method: route.method, path, headers, body };
  }

  /** JSON text of a value, references resolved. */
  json(value: unknown): string {
    return JSON.stringify(value, (_key, item: unknown) => (item instanceof PoolRef ? this.resolve(item) : item)) ?? 'null';
  }

  private body(spec: BodySpec): { body?: Buffer; contentType: string | null; contentEncoding: string | null } {
    switch (spec.kind) {
      case 'none':
        return { contentType: null, contentEncoding: null };
      case 'json':
        return { body: Buffer.from(this.json(spec.value)), contentType: spec.contentType, contentEncoding: null };
      case 'text':
        return { body: Buffer.from(spec.text, 'utf8'), contentType: spec.contentType, contentEncoding: null };
      case 'deep': {
        const [open, leaf, close] = spec.shape === 'array' ? ['[', '1', ']'] : ['{"a":', '1', '}'];
        const inner = open.repeat(spec.depth) + leaf + close.repeat(spec.depth);
        const text = spec.field === null ? inner : `{${JSON.stringify(spec.field)}:${inner}}`;
        return { body: Buffer.from(text), contentType: 'application/json', contentEncoding: null };
      }
      case 'size': {
        const overhead = JSON.stringify({ [spec.field]: '' }).length;
        const text = JSON.stringify({ [spec.field]: 'x'.repeat(Math.max(0, spec.bytes - overhead)) });
        return { body: Buffer.from(text), contentType: 'application/json', contentEncoding: null };
      }
      case 'encoded': {
        const plain = Buffer.from(this.json(spec.value));
        let body: Buffer;
        if (spec.corrupt) body = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), plain]);
        else if (spec.encoding === 'gzip') body = gzipSync(plain);
        else if (spec.encoding === 'gzip, gzip') body = gzipSync(gzipSync(plain));
        else if (spec.encoding === 'deflate') body = deflateSync(plain);
        else if (spec.encoding === 'br') body = brotliCompressSync(plain);
        else body = plain;
        return { body, contentType: 'application/json', contentEncoding: spec.encoding };
      }
    }
  }
}
