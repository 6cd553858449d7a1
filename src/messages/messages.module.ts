import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChatMessageEntity } from './chat-message.entity.js';
import { MessagesService } from './messages.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ChatMessageEntity])],
  providers: [MessagesService],
  exports: [MessagesService],
})
export class MessagesModule {}
