import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ActsFor, CurrentCaller } from '../access/access.js';
import type { Caller } from '../access/caller.js';
import { ApiErrorResponses, ApiIdempotencyKey, TURN_ERRORS } from '../common/api-errors.decorator.js';
import { UserChatParams, UserIdParams } from '../common/params.js';
import { IdempotencyKey } from '../idempotency/idempotency-key.js';
import type { IdempotentRequest } from '../idempotency/idempotency-key.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { chatTarget } from '../sessions/turn-target.js';
import { ChatHistoryDto, ChatListDto, ChatRequestDto, ChatResponseDto, HistoryEntryDto } from './dto/chat.dto.js';
import { fileIdsOf } from './dto/send-message.dto.js';
import { answerTurn } from './turn-http.js';
import { TurnService } from './turn.service.js';

/** The original per-user chat API, kept byte-compatible for its clients. A chat is a session. */
@ApiTags('chat (original API)')
@Controller()
export class ChatController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly turns: TurnService,
  ) {}

  @Post('chat')
  @ActsFor('user_id')
  @ApiOperation({
    summary: 'Chat as a user',
    description:
      'Creates the user when unknown and a chat when chat_id is absent (stored only if Gemini answers). ' +
      "A chat_id that does not exist or is another user's is 404, never created.",
  })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: ChatResponseDto })
  @ApiErrorResponses(...TURN_ERRORS)
  async chat(
    @Body() body: ChatRequestDto,
    @CurrentCaller() caller: Caller,
    @IdempotencyKey() idempotency: IdempotentRequest,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const target = chatTarget(body.user_id, body.chat_id);
    await answerTurn(request, response, 200, ChatResponseDto.from, () =>
      this.turns.send(caller, target, body.message ?? '', { idempotency, attachments: fileIdsOf(body) }),
    );
  }

  @Get('history/:user_id')
  @ActsFor('user_id')
  @ApiOperation({ summary: "A user's chat ids, oldest first ([] for none)", description: 'The original API: the ids are session ids.' })
  @ApiOkResponse({ type: ChatListDto })
  @ApiErrorResponses(400, 401, 404)
  async list(@Param() params: UserIdParams): Promise<ChatListDto> {
    return { chat_sessions: await this.sessions.idsForUser(params.user_id) };
  }

  @Get('history/:user_id/:chat_id')
  @ActsFor('user_id', { notFound: 'chat' })
  @ApiOperation({
    summary: 'One chat of a user, in order',
    description: "Role, content and time of each message; 404 when the chat is not this user's.",
  })
  @ApiOkResponse({ type: ChatHistoryDto })
  @ApiErrorResponses(400, 401, 404)
  async history(@Param() params: UserChatParams, @CurrentCaller() caller: Caller): Promise<ChatHistoryDto> {
    const { messages } = await this.sessions.conversation(caller, params.chat_id, params.user_id);
    return { history: messages.map(HistoryEntryDto.from) };
  }
}
