import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/api-errors.decorator.js';
import { SessionIdParams } from '../common/params.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { MessagesService } from '../messages/messages.service.js';
import { nanoToUsd } from '../pricing/pricing.service.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { SessionDto, SessionHistoryDto } from './dto/session.dto.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly messages: MessagesService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a session', description: 'Without user_id the session belongs to "anonymous"; an unknown user_id is created.' })
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrorResponses(400)
  async create(@Body() body: CreateSessionDto): Promise<SessionDto> {
    const session = await this.sessions.create({
      userId: body.user_id,
      title: body.title,
      model: body.model,
      systemInstruction: body.system_instruction,
    });
    return SessionDto.from(session, await this.messages.statsForOne(session.chatId));
  }

  @Get(':session_id')
  @ApiOperation({ summary: 'Get a session with its running totals' })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(400, 404)
  async get(@Param() params: SessionIdParams): Promise<SessionDto> {
    const session = await this.sessions.get(params.session_id);
    return SessionDto.from(session, await this.messages.statsForOne(session.chatId));
  }

  @Get(':session_id/history')
  @ApiOperation({ summary: 'The whole stored conversation, in order, with usage and cost per reply' })
  @ApiOkResponse({ type: SessionHistoryDto })
  @ApiErrorResponses(400, 404)
  async history(@Param() params: SessionIdParams): Promise<SessionHistoryDto> {
    const session = await this.sessions.get(params.session_id);
    const rows = await this.messages.listForSession(session.chatId);
    const messages = rows.map((row) => MessageDto.from(row));
    return {
      session_id: session.chatId,
      messages,
      message_count: rows.length,
      total_tokens: rows.reduce((sum, row) => sum + (row.totalTokens ?? 0), 0),
      total_cost_usd: nanoToUsd(rows.reduce((sum, row) => sum + (row.costNanoUsd ?? 0), 0))!,
    };
  }
}
