/**
 * Thrown by a credential provider when no credentials can be had without the user signing in
 * again (session ended, refresh token revoked, never signed in). The server answers it with a
 * 401 whose message tells the user how to sign in; nothing retries it.
 */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
  constructor(message = 'Sign in again from the Bedrock Bridge tray menu, or run `bedrock-bridge login`.') {
    super(message);
  }
}
