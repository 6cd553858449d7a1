import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { fileURLToPath } from 'node:url';
import { requestId } from './common/request-id.middleware.js';

export const BODY_LIMIT = '1mb';
const PUBLIC_DIR = fileURLToPath(new URL('./web/public', import.meta.url));

/** What main.ts and the e2e tests both apply to the app, so tests see what users see. */
export function configureApp(app: NestExpressApplication): void {
  app.disable('x-powered-by');
  app.use(requestId);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useStaticAssets(PUBLIC_DIR, { index: 'index.html', fallthrough: true });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('gemini-chat-api')
      .setDescription(
        'Chat with Google Gemini through stored sessions. Every reply reports its tokens and exact cost in US dollars; ' +
          'sessions report what they have cost so far. Try it: POST /sessions, then POST /sessions/{id}/messages.',
      )
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
