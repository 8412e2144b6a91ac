/** The org gateway answered 403: the user signed in but is not entitled to Bedrock. Servers map it to 403. */
export class NotEntitledError extends Error {
  override readonly name = 'NotEntitledError';
  /** The org's own reason from the 403, when it gave one (already one short line). */
  readonly orgReason: string | null;
  constructor(orgReason: string | null = null) {
    super(
      `Not entitled: you are signed in, but your organisation does not let you use Amazon Bedrock through Bedrock Bridge${orgReason ? ` (the org gateway says: ${orgReason})` : ''}. Signing in again does not help; ask your administrator for access.`,
    );
    this.orgReason = orgReason;
  }
}

/** The user denied the sign-in request, or it expired before they approved it. */
export class SignInFailedError extends Error {
  override readonly name = 'SignInFailedError';
  readonly reason: 'denied' | 'expired' | 'cancelled' | 'error';
  constructor(reason: 'denied' | 'expired' | 'cancelled' | 'error', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Settings refuse this source (for example long-lived access keys), or it is misconfigured. */
export class CredentialConfigurationError extends Error {
  override readonly name = 'CredentialConfigurationError';
}
