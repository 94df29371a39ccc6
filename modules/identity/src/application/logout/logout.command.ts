import { Command } from '@nestjs/cqrs';

export class LogoutCommand extends Command<Record<string, never>> {
  constructor(readonly refreshToken: string) {
    super();
  }
}
