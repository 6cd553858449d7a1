import type { MessageDto } from '../messages/dto/message.dto.js';
import { TOKEN_CLASSES } from '../core/token-usage.js';
import type { SessionDto } from './dto/session.dto.js';

function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? 'unpriced' : `$${value.toFixed(9).replace(/0+$/, '').replace(/\.$/, '.00')}`;
}

/** "prompt 20, output 253, thinking 260": every class but the total, zeros left out. */
function tokenBreakdown(usage: NonNullable<MessageDto['usage']>): string {
  return TOKEN_CLASSES.filter(({ name }) => name !== 'total_tokens' && usage[name] > 0)
    .map(({ name, label }) => `${label} ${usage[name]}`)
    .join(', ');
}

/** Text that must stay on its line (a heading, a list item): line breaks and other controls become spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const [run] of text.matchAll(/`+/g)) longest = Math.max(longest, run.length);
  return longest;
}

/**
 * Text a person or the model wrote, as a fenced code block that nothing in it can close: in
 * CommonMark a fence of N backticks is closed only by a line of N or more backticks (tildes never
 * close it), so the fence is one backtick longer than the longest run of backticks in the text.
 * Whatever the text holds — a heading, a cost line, a fence of its own — it stays inside.
 */
function fenced(text: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return [fence, text, fence];
}

/** A name as inline code that nothing in it can close or restyle (as `fenced`, on one line). */
function code(text: string): string {
  const ticks = '`'.repeat(longestBacktickRun(text) + 1);
  return `${ticks} ${oneLine(text)} ${ticks}`;
}

/**
 * A conversation as Markdown, for people: one section per message, usage and cost per reply.
 * Headings and cost lines are written here only; every text of the conversation (messages, the
 * system instruction) is in a fenced block, and the others (title, user, models) on one line, so
 * no message can add, close or restyle a turn.
 */
export function sessionToMarkdown(session: SessionDto, messages: MessageDto[]): string {
  const lines = [
    `# ${oneLine(session.title ?? 'Untitled session')}`,
    '',
    `- Session: \`${session.session_id}\``,
    `- User: ${oneLine(session.user_id)}`,
    `- Model: ${oneLine(session.model)}`,
    `- Created: ${session.created_at}`,
    `- Messages: ${session.message_count}`,
    `- Tokens: ${session.total_tokens}`,
    `- Cost: ${usd(session.total_cost_usd)}`,
  ];
  if (session.system_instruction) lines.push('', '## System instruction', '', ...fenced(session.system_instruction));
  for (const message of messages) {
    lines.push('', `## ${message.role === 'user' ? 'User' : 'Model'} · ${message.created_at}`, '', ...fenced(message.content));
    if (message.attachments?.length) {
      lines.push(
        '',
        ...message.attachments.map(
          (file) => `- Attachment: ${code(file.name)} (${file.mime_type}, ${file.bytes} bytes${file.deleted ? ', deleted' : ''})`,
        ),
      );
    }
    if (message.role === 'model' && message.usage) {
      const usage = message.usage;
      const estimated = message.cost_status === 'estimated' ? ` (estimated at ${oneLine(message.priced_as ?? '')} rates)` : '';
      const leftOut = message.context?.truncated ? ` · older messages left out of its context` : '';
      lines.push(
        '',
        `_${oneLine(message.model ?? '')} · ${usage.total_tokens} tokens (${tokenBreakdown(usage)}) · ${usd(message.cost_usd)}${estimated}${leftOut}_`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
