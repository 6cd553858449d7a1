import { readFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { documentText } from '../../src/openapi.js';
import { useTestApp } from '../support/test-app.js';

const REGENERATE = 'The contract changed: run `npm run openapi` and commit docs/openapi.json and test/support/openapi-types.ts.';

describe('The OpenAPI document', () => {
  const t = useTestApp();
  let document: Record<string, any>;
  beforeAll(async () => {
    document = (await request(t.baseUrl).get('/docs-json').expect(200)).body;
  });
  const operations = () =>
    Object.entries<Record<string, any>>(document.paths).flatMap(([path, item]) =>
      Object.entries<Record<string, any>>(item).map(([method, operation]) => ({ path, method, operation })),
    );

  it('is the committed docs/openapi.json, so contract changes show in review', () => {
    const committed = readFileSync('docs/openapi.json', 'utf8');
    if (committed !== documentText(document as OpenAPIObject)) throw new Error(REGENERATE);
  });

  it('makes the committed client types (openapi-typescript) the generated-client spec is type-checked with', async () => {
    const types = astToString(await openapiTS(structuredClone(document) as never));
    if (!readFileSync('test/support/openapi-types.ts', 'utf8').endsWith(types)) throw new Error(REGENERATE);
  });

  it('names operations as a client author would', () => {
    const ids = operations().map(({ operation }) => operation.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !/^[a-z][a-zA-Z]*$/.test(id))).toEqual([]);
    expect(ids).toEqual(
      expect.arrayContaining([
        'sendMessage',
        'createSession',
        'listSessions',
        'getSession',
        'updateSession',
        'deleteSession',
        'estimateTurn',
        'getHistory',
        'listMessages',
        'exportSession',
        'uploadFile',
        'listFiles',
        'getFile',
        'downloadFile',
        'deleteFile',
        'chat',
        'getUsage',
        'listModels',
        'health',
        'me',
      ]),
    );
  });

  it('defines every tag it uses, with a description; has servers; takes an opaque API key, not a JWT', () => {
    const defined = new Map(document.tags.map((tag: { name: string; description: string }) => [tag.name, tag.description]));
    for (const { operation } of operations()) for (const tag of operation.tags) expect(defined.get(tag)).toEqual(expect.any(String));
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'API key' });
  });

  it('asks no key of the health checks, METRICS_TOKEN (when set) of metrics, and the bearer key of everything else', () => {
    const open = operations()
      .filter(({ operation }) => Array.isArray(operation.security) && operation.security.length === 0)
      .map(({ path }) => path);
    expect(open.sort()).toEqual(['/health', '/health/ready']);
    expect(document.paths['/metrics'].get.security).toEqual([{}, { metricsToken: [] }]);
    expect(document.security).toEqual([{ bearer: [] }]);
  });

  it('declares request bodies closed (unknown fields are refused) and types exact', () => {
    const schemas = document.components.schemas;
    for (const name of ['CreateSessionDto', 'UpdateSessionDto', 'SendMessageDto', 'AttachmentRefDto', 'ChatRequestDto', 'CreateUserDto'])
      expect(schemas[name].additionalProperties).toBe(false);
    expect(schemas.MessageDto.properties.model).toMatchObject({ type: 'string', nullable: true });
    expect(schemas.MessageDto.properties.id.type).toBe('integer');
    expect(schemas.MessageDto.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(schemas.SessionDto.properties.model_notice.oneOf).toEqual([
      { $ref: '#/components/schemas/ModelNoticeDto' },
      { type: 'object', nullable: true, enum: [null] },
    ]);
    expect(schemas.CreateSessionDto.properties.user_id).toMatchObject({ minLength: 1, maxLength: 128, pattern: expect.any(String) });
    const send = document.paths['/sessions/{session_id}/messages'].post;
    expect(send.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key').schema.pattern).toBe('^[\\x21-\\x7e]{1,255}$');
  });
});
