import { Injectable } from '@nestjs/common';
import type { Message } from './message.js';
import { MessagesRepository } from './messages.repository.js';

@Injectable()
export class MessagesService {
  constructor(private readonly messages: MessagesRepository) {}

  /** Up to `limit` of a session's messages after the message id `afterId` (null: from the first), in order. */
  page(sessionId: string, limit: number, afterId: number | null): Promise<Message[]> {
    return this.messages.page(sessionId, limit, afterId);
  }
}
