import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { callerScope, CurrentCaller } from '../auth/caller.js';
import type { Caller } from '../auth/caller.js';
import { ApiErrorResponses, ApiIdempotencyKey, TURN_ERRORS } from '../common/api-errors.decorator.js';
import { SessionIdParams } from '../common/params.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SendMessageDto } from './dto/send-message.dto.js';
import { TurnResponseDto } from './dto/turn-response.dto.js';
import { serverTiming, TurnEventStream, wantsEventStream } from './turn-http.js';
import { TurnService } from './turn.service.js';

@ApiTags('sessions')
@Controller('sessions')
export class SessionMessagesController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly turns: TurnService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post(':session_id/messages')
  @ApiOperation({
    summary: 'Send a message and get the reply (JSON, or streamed as Server-Sent Events)',
    description:
      'The whole stored history of the session, plus its system instruction, is the context sent to Gemini. ' +
      'Both messages are stored only if Gemini answers; on any error nothing is stored.\n\n' +
      'With `Accept: text/event-stream` the answer is a 200 SSE stream: `event: delta` `data: {"text": "…"}` as text ' +
      'arrives, then `event: done` with the same JSON as the 201 body, or `event: error` with an error body. ' +
      'A failure before the first delta answers with its status and a JSON error body instead. If the client goes ' +
      'away the turn still completes and is stored. Server-Timing then comes as an HTTP trailer.\n\n' +
      'Accepts Idempotency-Key; a replay is always the JSON 201 body.',
  })
  @ApiHeader({ name: 'Accept', required: false, description: '`text/event-stream` to stream the reply.' })
  @ApiIdempotencyKey()
  @ApiProduces('application/json', 'text/event-stream')
  @ApiCreatedResponse({ type: TurnResponseDto, headers: { 'Server-Timing': { description: 'upstream;dur=…, total;dur=… (ms)' } } })
  @ApiErrorResponses(...TURN_ERRORS)
  async send(
    @Param() params: SessionIdParams,
    @Body() body: SendMessageDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    this.turns.checkMessage(body.message);
    const sessionId = params.session_id;
    // An unknown (or foreign) session is a 404 at once, not after the turns queued before it.
    const { userId } = await this.sessions.getFor(caller, sessionId);
    const scope = callerScope(caller, userId);
    const key = request.header('idempotency-key');
    const fingerprint = { route: 'POST /sessions/:id/messages', sessionId, message: body.message };
    const turn = (onDelta?: (text: string) => void) => {
      this.turns.admitRate(scope);
      return this.turns.inSession(sessionId, () => this.sessions.getFor(caller, sessionId), body.message, onDelta);
    };

    if (!wantsEventStream(request)) {
      await this.idempotency.respond(response, scope, key, fingerprint, async () => {
        const outcome = await turn();
        response.setHeader('Server-Timing', serverTiming(response, outcome.upstreamMs));
        return { status: 201, body: TurnResponseDto.from(outcome) };
      });
      return;
    }
    const start = await this.idempotency.start(scope, key, fingerprint);
    if (start && 'replay' in start) {
      this.idempotency.replay(response, start.replay);
      return;
    }
    const events = new TurnEventStream(response);
    try {
      const outcome = await turn((text) => events.delta(text));
      const dto = TurnResponseDto.from(outcome);
      await start?.claim.complete({ status: 201, body: dto });
      events.done(dto, outcome.upstreamMs);
    } catch (error) {
      await start?.claim.fail(error);
      if (!events.started) throw error;
      events.fail(error, null);
    }
  }
}
