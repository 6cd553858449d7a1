import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ActsFor, CurrentCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { ApiErrorResponses, ApiIdempotencyKey, ErrorBodyDto } from '../common/api-errors.decorator.js';
import { ValidationFailed } from '../common/errors.js';
import { mapPage, PageQuery } from '../common/paging.js';
import type { Page } from '../common/paging.js';
import { SessionIdParams } from '../common/params.js';
import { IdempotencyKey } from '../idempotency/idempotency-key.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { ModelCatalog } from '../models/model-catalog.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { ExportQuery, ListSessionsQuery, UpdateSessionDto } from './dto/session-queries.js';
import { MessagesPageDto, SessionDto, SessionExportDto, SessionHistoryDto, SessionsPageDto, SessionTotalsDto } from './dto/session.dto.js';
import type { Session } from './session.js';
import { sessionToMarkdown } from './session-export.js';
import { SessionsService } from './sessions.service.js';

const DEFAULT_SESSIONS_PAGE = 20;
const DEFAULT_MESSAGES_PAGE = 50;

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly models: ModelCatalog,
  ) {}

  private readonly toDto = (session: Session, activeTurnId: string | null = null): SessionDto =>
    SessionDto.fromSession(
      session,
      this.models.contextLimit(session.model, session.maxContextTokens ?? null),
      this.models.noticeFor(session.model),
      activeTurnId,
    );

  @Post()
  @ActsFor('user_id', { whenAbsent: 'own' })
  @ApiOperation({
    summary: 'Start a session',
    description:
      'Without user_id the session belongs to "anonymous" (with a user key: to that key\'s user); an unknown user_id is created. ' +
      "Counts against the caller's RATE_LIMIT_PER_MINUTE as a turn does (a replay of an Idempotency-Key does not). Accepts Idempotency-Key.",
  })
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404, 409, 422)
  @ApiResponse({
    status: 429,
    description:
      'RATE_LIMITED: more than RATE_LIMIT_PER_MINUTE turns, new sessions and uploads in the last minute. See Retry-After. Nothing is stored.',
    type: ErrorBodyDto,
  })
  async create(
    @Body() body: CreateSessionDto,
    @CurrentCaller() caller: Caller,
    @IdempotencyKey() idempotency: IdempotentRequest,
  ): Promise<SessionDto> {
    const input = {
      userId: body.user_id,
      title: body.title,
      model: body.model,
      systemInstruction: body.system_instruction,
      maxContextTokens: body.max_context_tokens,
      truncation: body.truncation,
    };
    return this.toDto(await this.sessions.create(caller, input, idempotency));
  }

  @Get()
  @ActsFor('user_id')
  @ApiOperation({
    summary: "A user's sessions, newest first, a page at a time",
    description: '`after` is the next_cursor of the previous page; `limit` 1–100 (default 20).',
  })
  @ApiOkResponse({ type: SessionsPageDto })
  @ApiErrorResponses(400, 401, 404)
  async list(@Query() query: ListSessionsQuery): Promise<Page<SessionDto>> {
    const page = await this.sessions.list(query.user_id, query.limit ?? DEFAULT_SESSIONS_PAGE, query.after);
    return mapPage(page.sessions, (session) => this.toDto(session, page.activeTurns.get(session.id) ?? null));
  }

  @Get(':session_id')
  @ApiOperation({
    summary: 'Get a session with its running totals',
    description: "Messages, tokens and cost so far, and what the next turn starts from. Another user's session is 404, as a missing one.",
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404)
  async get(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<SessionDto> {
    const { session, activeTurnId } = await this.sessions.withActiveTurn(caller, params.session_id);
    return this.toDto(session, activeTurnId);
  }

  @Patch(':session_id')
  @ApiOperation({
    summary: 'Rename a session, or change its system instruction, model, context limit or truncation',
    description: 'Turns sent after it use the new values.',
  })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(400, 401, 404)
  async update(@Param() params: SessionIdParams, @Body() body: UpdateSessionDto, @CurrentCaller() caller: Caller): Promise<SessionDto> {
    const changes = {
      title: body.title,
      systemInstruction: body.system_instruction,
      model: body.model,
      maxContextTokens: body.max_context_tokens,
      truncation: body.truncation,
    };
    return this.toDto(await this.sessions.update(caller, params.session_id, changes));
  }

  @Delete(':session_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a session and all its messages',
    description: 'What its turns cost stays in the spend ledger: budgets and usage reports still count it.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(400, 401, 404)
  async remove(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<void> {
    await this.sessions.delete(caller, params.session_id);
  }

  @Get(':session_id/history')
  @ApiOperation({
    summary: 'The whole stored conversation, in order, with usage and cost per reply',
    description: 'Every message in id order, with the session totals; for long sessions page with GET /sessions/{session_id}/messages.',
  })
  @ApiOkResponse({ type: SessionHistoryDto })
  @ApiErrorResponses(400, 401, 404)
  async history(@Param() params: SessionIdParams, @CurrentCaller() caller: Caller): Promise<SessionHistoryDto> {
    const { session, messages } = await this.sessions.conversation(caller, params.session_id);
    return { session_id: session.id, messages: messages.map(MessageDto.from), ...SessionTotalsDto.from(session.totals) };
  }

  @Get(':session_id/messages')
  @ApiOperation({ summary: "A session's messages in order, a page at a time", description: '`after` is the id of the last message seen.' })
  @ApiOkResponse({ type: MessagesPageDto })
  @ApiErrorResponses(400, 401, 404)
  async messagesPage(
    @Param() params: SessionIdParams,
    @Query() query: PageQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<Page<MessageDto>> {
    const afterId = query.after === undefined ? null : messageId(query.after);
    const page = await this.sessions.messagesPage(caller, params.session_id, query.limit ?? DEFAULT_MESSAGES_PAGE, afterId);
    return mapPage(page, MessageDto.from);
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
    const conversation = await this.sessions.conversation(caller, params.session_id);
    const session = this.toDto(conversation.session);
    const messages = conversation.messages.map(MessageDto.from);
    const format = query.format ?? 'json';
    response.attachment(`session-${session.session_id}.${format === 'json' ? 'json' : 'md'}`);
    if (format === 'markdown') {
      response.type('text/markdown; charset=utf-8').send(sessionToMarkdown(session, messages));
      return;
    }
    const body: SessionExportDto = { session, messages, exported_at: new Date().toISOString() };
    response.json(body);
  }
}

/** Message ids are 32-bit integers (the column's type on PostgreSQL): anything larger names no message. */
const LARGEST_MESSAGE_ID = 2_147_483_647;

function messageId(after: string): number {
  if (!/^\d{1,10}$/.test(after) || Number(after) > LARGEST_MESSAGE_ID) throw new ValidationFailed('after: must be a message id');
  return Number(after);
}
