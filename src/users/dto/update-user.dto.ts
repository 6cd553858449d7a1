import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, Max, Min, ValidateIf } from 'class-validator';

export class UpdateUserDto {
  @ApiProperty({ type: Number, nullable: true, example: 5, description: 'Daily spend limit in USD (UTC days), kept to the nano-dollar; null: USER_DAILY_BUDGET_USD applies.' })
  @ValidateIf((_dto, value) => value !== null)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000)
  daily_budget_usd: number | null;
}
