import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, TURN_ERRORS } from '../common/api-errors.decorator.js';
import { UserChatParams, UserIdParams } from '../common/params.js';
import { MessagesService } from '../messages/messages.service.js';
import { nanoToUsd } from '../pricing/pricing.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { ChatHistoryDto, ChatListDto, ChatRequestDto, ChatResponseDto } from './dto/chat.dto.js';
import { serverTiming } from './turn-http.js';
import { TurnService } from './turn.service.js';
import type { TurnOutcome } from './turn.service.js';

/** The original per-user chat API, kept byte-compatible for its clients. */
@ApiTags('chat (original API)')
@Controller()
export class ChatController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly messages: MessagesService,
    private readonly turns: TurnService,
  ) {}

  @Post('chat')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Chat as a user',
    description:
      'Creates the user when unknown and a chat when chat_id is absent (stored only if Gemini answers). ' +
      'A chat_id that does not exist or is another user\'s is 404, never created.',
  })
  @ApiOkResponse({ type: ChatResponseDto })
  @ApiErrorResponses(...TURN_ERRORS)
  async chat(@Body() body: ChatRequestDto, @Res({ passthrough: true }) response: Response): Promise<ChatResponseDto> {
    this.turns.checkMessage(body.message);
    const { chat_id: chatId, user_id: userId } = body;
    let outcome: TurnOutcome;
    if (chatId) {
      await this.sessions.getOwned(chatId, userId); // a foreign or unknown chat is a 404 at once
      outcome = await this.turns.inSession(chatId, () => this.sessions.getOwned(chatId, userId), body.message);
    } else {
      outcome = await this.turns.inNewSession(this.sessions.build({ userId }), body.message);
    }
    response.setHeader('Server-Timing', serverTiming(response, outcome.upstreamMs));
    const reply = MessageDto.from(outcome.modelRow);
    return {
      response: outcome.modelRow.content,
      chat_id: outcome.session.chatId,
      usage: reply.usage!,
      cost_usd: nanoToUsd(outcome.cost.costNanoUsd),
    };
  }

  @Get('history/:user_id')
  @ApiOperation({ summary: 'A user\'s chat ids, oldest first ([] for none)' })
  @ApiOkResponse({ type: ChatListDto })
  @ApiErrorResponses(400)
  async list(@Param() params: UserIdParams): Promise<ChatListDto> {
    return { chat_sessions: await this.sessions.listIdsForUser(params.user_id) };
  }

  @Get('history/:user_id/:chat_id')
  @ApiOperation({ summary: 'One chat of a user, in order' })
  @ApiOkResponse({ type: ChatHistoryDto })
  @ApiErrorResponses(400, 404)
  async history(@Param() params: UserChatParams): Promise<ChatHistoryDto> {
    const session = await this.sessions.getOwned(params.chat_id, params.user_id);
    const rows = await this.messages.listForSession(session.chatId);
    return {
      history: rows.map((row) => ({ role: row.role, content: row.content, timestamp: row.timestamp.toISOString() })),
    };
  }
}
