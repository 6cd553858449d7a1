import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { SessionIdParams } from '../../common/params.js';

export class TurnIdParams extends SessionIdParams {
  @ApiProperty({ format: 'uuid', description: "The turn id of the stream's `turn` event." })
  @IsString()
  turn_id: string;
}

/** The answer to a cancel: asked for; the turn's stream (and a JSON turn's answer) ends with the stored CANCELLED message. */
export class CancelTurnDto {
  @ApiProperty({ format: 'uuid' })
  turn_id: string;

  @ApiProperty({
    enum: ['cancelling'],
    description: 'The cancel is asked for; the turn stores what it has as CANCELLED and ends with `done`.',
  })
  status: 'cancelling';
}
