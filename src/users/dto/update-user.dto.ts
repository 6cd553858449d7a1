import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, Max, ValidateIf } from 'class-validator';
import { IsUsdAmount } from '../../common/validation-rules.js';

export class UpdateUserDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 1_000_000,
    example: 5,
    description: 'Daily spend limit in USD (UTC days), at most 9 decimals; null: USER_DAILY_BUDGET_USD applies.',
  })
  @ValidateIf((_dto, value) => value !== null)
  @Max(1_000_000)
  @IsUsdAmount()
  // Checks run from the property up: the type first, so a wrong type is named as such.
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a number of US dollars, such as 5 or 0.25' })
  daily_budget_usd: number | null;
}
