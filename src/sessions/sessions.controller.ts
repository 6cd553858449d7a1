import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { assertActsFor, callerScope, CurrentCaller, ownUserId } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { ApiErrorResponses, ApiIdempotencyKey } from '../common/api-errors.decorator.js';
import { UserNotFound, ValidationFailed } from '../common/errors.js';
import { PageQuery, pageOf } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { SessionIdParams } from '../common/params.js';
import type { ChatMessageEntity } from '../messages/chat-message.entity.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { MessagesService } from '../messages/messages.service.js';
import { nanoToUsd } from '../pricing/pricing.service.js';
import type { ChatSessionEntity } from './chat-session.entity.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { ExportQuery, ListSessionsQuery, UpdateSessionDto } from './dto/session-queries.js';
import { MessagesPageDto, SessionDto, SessionExportDto, SessionHistoryDto, SessionsPageDto } from './dto/session.dto.js';
import { decodeSessionCursor, encodeSessionCursor } from './session-cursor.js';
import { sessionToMarkdown } from './session-export.js';
import { SessionsService } from './sessions.service.js';

const DEFAULT_SESSIONS_PAGE = 20;
const DEFAULT_MESSAGES_PAGE = 50;

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly messages: MessagesService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Start a session',
    description:
      'Without user_id the session belongs to "anonymous" (with a user key: to that key\'s user); an unknown user_id is created. ' +
      'Accepts Idempotency-Key.',
  })
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404, 409, 422)
  async create(
    @Body() body: CreateSessionDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const userId = ownUserId(caller, body.user_id);
    if (userId !== undefined) assertActsFor(caller, userId, () => new UserNotFound(userId));
    const scope = callerScope(caller, userId ?? 'anonymous');
    const fingerprint = { route: 'POST /sessions', body };
    await this.idempotency.respond(response, scope, request.header('idempotency-key'), fingerprint, async () => {
      const session = await this.sessions.create({
        userId,
        title: body.title,
        model: body.model,
        systemInstruction: body.system_instruction,
      });
      return { status: 201, body: await this.view(session) };
    });
  }

  @Get()
  @ApiOperation({ summary: 'A user\'s sessions, newest first, a page at a time' })
  @ApiOkResponse({ type: SessionsPageDto })
  @ApiErrorResponses(400, 401, 404)
  async list(@Query() query: ListSessionsQuery, @CurrentCaller() caller: Caller): Promise<Page<SessionDto>> {
    assertActsFor(caller, query.user_id, () => new UserNotFound(query.user_id));
    const limit = query.limit ?? DEFAULT_SESSIONS_PAGE;
    const rows = await this.sessions.pageForUser(query.user_id, limit + 1, decodeSessionCursor(query.after));
    const stats = await this.messages.statsFor(rows.slice(0, limit).map((row) => row.chatId));
    return pageOf(rows, limit, encodeSessionCursor, (kept) => kept.map((row) => SessionDto.from(row, stats.get(row.chatId)!)));
  }

  @Get(':session_id')
  @ApiOperation({ summary: 'Get a session with its running totals' })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404)
  async get(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<SessionDto> {
    return this.view(await this.sessions.getFor(caller, params.session_id));
  }

  @Patch(':session_id')
  @ApiOperation({ summary: 'Rename a session or change its system instruction or model', description: 'Later turns use the new values.' })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404)
  async update(
    @Param() params: SessionIdParams,
    @Body() body: UpdateSessionDto,
    @CurrentCaller() caller: Caller,
  ): Promise<SessionDto> {
    const current = await this.sessions.getFor(caller, params.session_id);
    const session = await this.sessions.update(current, {
      title: body.title,
      systemInstruction: body.system_instruction,
      model: body.model,
    });
    return this.view(session);
  }

  @Delete(':session_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a session and all its messages' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(400, 401, 404)
  async remove(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<void> {
    await this.sessions.delete(await this.sessions.getFor(caller, params.session_id));
  }

  @Get(':session_id/history')
  @ApiOperation({ summary: 'The whole stored conversation, in order, with usage and cost per reply' })
  @ApiOkResponse({ type: SessionHistoryDto })
  @ApiErrorResponses(400, 401, 404)
  async history(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<SessionHistoryDto> {
    const session = await this.sessions.getFor(caller, params.session_id);
    const rows = await this.messages.listForSession(session.chatId);
    return {
      session_id: session.chatId,
      messages: rows.map((row) => MessageDto.from(row)),
      message_count: rows.length,
      total_tokens: rows.reduce((sum, row) => sum + (row.totalTokens ?? 0), 0),
      total_cost_usd: nanoToUsd(rows.reduce((sum, row) => sum + (row.costNanoUsd ?? 0), 0))!,
    };
  }

  @Get(':session_id/messages')
  @ApiOperation({ summary: 'A session\'s messages in order, a page at a time', description: '`after` is the id of the last message seen.' })
  @ApiOkResponse({ type: MessagesPageDto })
  @ApiErrorResponses(400, 401, 404)
  async messagesPage(
    @Param() params: SessionIdParams,
    @Query() query: PageQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<Page<MessageDto>> {
    const session = await this.sessions.getFor(caller, params.session_id);
    const afterId = query.after === undefined ? null : messageId(query.after);
    const limit = query.limit ?? DEFAULT_MESSAGES_PAGE;
    const rows = await this.messages.page(session.chatId, limit + 1, afterId);
    return pageOf(rows, limit, (row: ChatMessageEntity) => String(row.id), (kept) => kept.map((row) => MessageDto.from(row)));
  }

  @Get(':session_id/export')
  @ApiOperation({ summary: 'Download a session with usage and cost per turn', description: 'JSON (default) or Markdown.' })
  @ApiProduces('application/json', 'text/markdown')
  @ApiOkResponse({ type: SessionExportDto })
  @ApiErrorResponses(400, 401, 404)
  async export(
    @Param() params: SessionIdParams,
    @Query() query: ExportQuery,
    @CurrentCaller() caller: Caller,
    @Res() response: Response,
  ): Promise<void> {
    const session = await this.sessions.getFor(caller, params.session_id);
    const view = await this.view(session);
    const messages = (await this.messages.listForSession(session.chatId)).map((row) => MessageDto.from(row));
    const format = query.format ?? 'json';
    response.attachment(`session-${session.chatId}.${format === 'json' ? 'json' : 'md'}`);
    if (format === 'markdown') {
      response.type('text/markdown; charset=utf-8').send(sessionToMarkdown(view, messages));
      return;
    }
    const body: SessionExportDto = { session: view, messages, exported_at: new Date().toISOString() };
    response.json(body);
  }

  private async view(session: ChatSessionEntity): Promise<SessionDto> {
    return SessionDto.from(session, await this.messages.statsForOne(session.chatId));
  }
}

function messageId(after: string): number {
  if (!/^\d{1,15}$/.test(after)) throw new ValidationFailed('after: must be a message id');
  return Number(after);
}
