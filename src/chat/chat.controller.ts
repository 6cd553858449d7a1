import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { assertActsFor, callerScope, CurrentCaller } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ChatNotFound, UserNotFound } from '../common/errors.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiIdempotencyKey, TURN_ERRORS } from '../common/api-errors.decorator.js';
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
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post('chat')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Chat as a user',
    description:
      'Creates the user when unknown and a chat when chat_id is absent (stored only if Gemini answers). ' +
      'A chat_id that does not exist or is another user\'s is 404, never created.',
  })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: ChatResponseDto })
  @ApiErrorResponses(...TURN_ERRORS)
  async chat(
    @Body() body: ChatRequestDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    this.turns.checkMessage(body.message);
    const { chat_id: chatId, user_id: userId } = body;
    assertActsFor(caller, userId, () => new UserNotFound(userId));
    if (chatId) await this.sessions.getOwned(chatId, userId); // a foreign or unknown chat is a 404 at once
    const scope = callerScope(caller, userId);
    const fingerprint = { route: 'POST /chat', body };
    await this.idempotency.respond(response, scope, request.header('idempotency-key'), fingerprint, async () => {
      this.turns.admitRate(scope);
      const outcome: TurnOutcome = chatId
        ? await this.turns.inSession(chatId, () => this.sessions.getOwned(chatId, userId), body.message)
        : await this.turns.inNewSession(this.sessions.build({ userId }), body.message);
      response.setHeader('Server-Timing', serverTiming(response, outcome.upstreamMs));
      const reply = MessageDto.from(outcome.modelRow);
      const answer: ChatResponseDto = {
        response: outcome.modelRow.content,
        chat_id: outcome.session.chatId,
        usage: reply.usage!,
        cost_usd: nanoToUsd(outcome.cost.costNanoUsd),
      };
      return { status: 200, body: answer };
    });
  }

  @Get('history/:user_id')
  @ApiOperation({ summary: 'A user\'s chat ids, oldest first ([] for none)' })
  @ApiOkResponse({ type: ChatListDto })
  @ApiErrorResponses(400, 401, 404)
  async list(@Param() params: UserIdParams, @CurrentCaller() caller: Caller): Promise<ChatListDto> {
    assertActsFor(caller, params.user_id, () => new UserNotFound(params.user_id));
    return { chat_sessions: await this.sessions.listIdsForUser(params.user_id) };
  }

  @Get('history/:user_id/:chat_id')
  @ApiOperation({ summary: 'One chat of a user, in order' })
  @ApiOkResponse({ type: ChatHistoryDto })
  @ApiErrorResponses(400, 401, 404)
  async history(@Param() params: UserChatParams, @CurrentCaller() caller: Caller): Promise<ChatHistoryDto> {
    assertActsFor(caller, params.user_id, () => new ChatNotFound(params.chat_id));
    const session = await this.sessions.getOwned(params.chat_id, params.user_id);
    const rows = await this.messages.listForSession(session.chatId);
    return {
      history: rows.map((row) => ({ role: row.role, content: row.content, timestamp: row.timestamp.toISOString() })),
    };
  }
}
