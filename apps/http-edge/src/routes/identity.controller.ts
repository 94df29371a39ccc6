import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { IDENTITY, IdentityContract, type IdentityApi } from '@contracts/identity';
import { RequestContexts } from '../request-context';
import { clientAddressOf } from '../security/trusted-proxies';
import { parseOr } from '../validation';
import { CONFIRM_PAGE, CONFIRM_PAGE_CSP } from './confirm-page';

const { register, login, confirmEmail, refresh } = IdentityContract.methods;

// Bodies are the contract's requests, strict (an unknown field is refused, not dropped): a limit
// is stated once, in the contract. The edge adds only what is its own to say.
export const RegisterBody = z.strictObject(register.request.shape);
/** The client's part of a login (the edge adds where it came from); both present, or 422 rather than 401. */
export const LoginBody = z.strictObject({
  email: login.request.shape.email.min(1),
  password: login.request.shape.password.min(1),
});
/** A refresh's body, and a logout's: the refresh token, present. */
export const RefreshTokenBody = z.strictObject({ refreshToken: refresh.request.shape.refreshToken.min(1) });
/**
 * The mailed token and the password chosen when registering, both required here: the contract
 * keeps the password optional only for callers that predate it (identity refuses them itself).
 */
export const ConfirmBody = z.strictObject({
  token: confirmEmail.request.shape.token,
  password: confirmEmail.request.shape.password.unwrap().min(1),
});

/** The answer to every registration, new address or known: registration tells no one which addresses have accounts. */
export const REGISTRATION_ACCEPTED = {
  status: 'confirmation-sent',
  detail: 'check your mailbox: follow the link we sent and confirm the address with your password, then sign in',
} as const;

@Controller()
export class IdentityController {
  constructor(
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
  ) {}

  /**
   * 202 and the same body whether the address is new or has an account (the owner of a known one
   * is told by mail instead); the account signs in once its mailbox is confirmed.
   */
  @Post('identity/register')
  @HttpCode(202)
  async register(@Req() request: Request, @Body() body: unknown) {
    await this.identity.register(this.contexts.of(request), parseOr(RegisterBody, body, 'body'));
    return REGISTRATION_ACCEPTED;
  }

  /** The mailed token comes back with the password chosen when registering; single use. */
  @Post('identity/confirm')
  @HttpCode(200)
  confirm(@Req() request: Request, @Body() body: unknown) {
    return this.identity.confirmEmail(this.contexts.of(request), parseOr(ConfirmBody, body, 'body'));
  }

  /**
   * The link in the confirmation email, followed from a mail client: a page that asks for the
   * password and POSTs it with the token. Following the link confirms nothing by itself.
   */
  @Get('identity/confirm')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CONFIRM_PAGE_CSP)
  @Header('cache-control', 'no-store')
  confirmPage(): string {
    return CONFIRM_PAGE;
  }

  @Post('identity/login')
  @HttpCode(200)
  login(@Req() request: Request, @Body() body: unknown) {
    const credentials = parseOr(LoginBody, body, 'body');
    // The socket's peer, or behind FICUS_TRUSTED_PROXIES the address they name (clientAddressOf).
    const clientAddress = clientAddressOf(request);
    return this.identity.login(this.contexts.of(request), { ...credentials, clientAddress });
  }

  /** New tokens for a refresh token, which is used up: presenting it again revokes its family. */
  @Post('identity/token')
  @HttpCode(200)
  token(@Req() request: Request, @Body() body: unknown) {
    return this.identity.refresh(this.contexts.of(request), parseOr(RefreshTokenBody, body, 'body'));
  }

  /** Ends the sign-in the refresh token belongs to (its whole family). */
  @Post('identity/logout')
  @HttpCode(204)
  async logout(@Req() request: Request, @Body() body: unknown): Promise<void> {
    await this.identity.logout(this.contexts.of(request), parseOr(RefreshTokenBody, body, 'body'));
  }
}
