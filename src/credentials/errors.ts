/** The org gateway answered 403: the user signed in but is not entitled to Bedrock. Servers map it to 403. */
export class NotEntitledError extends Error {
  override readonly name = 'NotEntitledError';
  constructor(message = 'Your organisation has not granted you access to Amazon Bedrock through Bedrock Bridge. Ask your administrator to add you.') {
    super(message);
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
