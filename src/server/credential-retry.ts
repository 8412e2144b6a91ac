import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import { SMITHY_CONTEXT_KEY } from '@smithy/types';

/**
 * Bedrock refused the credentials the request was signed with (revoked or expired early on the AWS
 * side, clock skew, a session cut short): 403 from the AWS front end, before the model saw anything.
 */
export const CREDENTIAL_REJECTIONS: ReadonlySet<string> = new Set(['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidSignatureException']);

/** What a credential source says when a refresh cannot help; the client sees these rather than Bedrock's refusal. */
const SOURCE_VERDICTS = new Set(['SignInRequiredError', 'NotEntitledError', 'CredentialConfigurationError']);

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** An SDK client as far as this needs it: its middleware stack and its (memoizing) credential provider. */
export interface CredentialedClient {
  middlewareStack: MiddlewareStack<any, any>;
  config: { credentials: AwsCredentialIdentityProvider };
}

/**
 * Credentials other than `rejected`: those the client holds already (another request refreshed them
 * meanwhile), else a forced refresh. It goes through the client's own credential provider, the SDK's
 * memoizing wrapper around ours: asking ours alone would leave the wrapper signing with the rejected
 * ones until their expiration. Concurrent forced refreshes share one fetch (both layers coalesce).
 */
async function renewedCredentials(credentials: AwsCredentialIdentityProvider, rejected: AwsCredentialIdentity): Promise<AwsCredentialIdentity> {
  const current = await credentials();
  if (current.accessKeyId !== rejected.accessKeyId) return current;
  return credentials({ forceRefresh: true });
}

/**
 * Installs on `client`: when Bedrock rejects the credentials a call was signed with, they are refreshed
 * once and the call is sent again, once, unseen by the caller. It runs at the initialize step, ahead of
 * the step that picks the credentials, so the second pass signs with the renewed ones; the command's
 * own hooks run again with it.
 *
 * - Only credential rejections are retried, and only when the refresh brings other credentials:
 *   static and environment credentials come back the same, and the rejection passes through.
 * - A refresh that says the source cannot help (SignInRequiredError: the session is over, and the
 *   source has told the app; NotEntitledError; CredentialConfigurationError) is thrown instead of the
 *   rejection; any other refresh failure leaves the rejection as the answer.
 * - A ConverseStream's credential rejection is its HTTP response: the call fails before any event,
 *   so nothing has reached the client yet when it is retried.
 */
export function retryOnRefusedCredentials(client: CredentialedClient): void {
  const retry: InitializeMiddleware<any, any> = (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (rejection) {
      const rejected = context[SMITHY_CONTEXT_KEY]?.selectedHttpAuthScheme?.identity as AwsCredentialIdentity | undefined;
      if (!CREDENTIAL_REJECTIONS.has(nameOf(rejection)) || !rejected?.accessKeyId) throw rejection;
      let renewed: AwsCredentialIdentity;
      try {
        renewed = await renewedCredentials(client.config.credentials, rejected);
      } catch (refreshError) {
        throw SOURCE_VERDICTS.has(nameOf(refreshError)) ? refreshError : rejection;
      }
      if (renewed.accessKeyId === rejected.accessKeyId) throw rejection;
      return next(args);
    }
  };
  client.middlewareStack.add(retry, { step: 'initialize', name: 'bedrockBridgeRetryOnRefusedCredentials' });
}
