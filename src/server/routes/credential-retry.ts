import type { BedrockRuntimeClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-bedrock-runtime';
import { SMITHY_CONTEXT_KEY, type AwsCredentialIdentity, type Command, type HttpHandlerOptions } from '@smithy/types';

/**
 * Bedrock refused the credentials the request was signed with (revoked or expired early on the AWS
 * side, clock skew, a session cut short): 403 from the AWS front end, before the model saw anything.
 */
const CREDENTIAL_REJECTIONS = new Set(['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidSignatureException']);

/** What a credential source says when a refresh cannot help; the client sees these rather than Bedrock's refusal. */
const SOURCE_VERDICTS = new Set(['SignInRequiredError', 'NotEntitledError', 'CredentialConfigurationError']);

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

type RuntimeCommand<Input extends ServiceInputTypes, Output extends ServiceOutputTypes> = Command<ServiceInputTypes, Input, ServiceOutputTypes, Output, unknown>;

/** On an error a runtime client's send threw: the credentials that request was signed with. */
const SIGNED_WITH = Symbol('signedWith');

const tagged = new WeakSet<BedrockRuntimeClient>();

/**
 * Once per client: a failed send's error carries the credentials the SDK picked to sign it (chosen
 * before signing), so a rejection names the key Bedrock refused. Nothing runs per request but a try.
 */
function tagErrorsWithSigningIdentity(runtime: BedrockRuntimeClient): void {
  if (tagged.has(runtime)) return;
  tagged.add(runtime);
  runtime.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const identity = context[SMITHY_CONTEXT_KEY]?.selectedHttpAuthScheme?.identity;
        if (identity && error !== null && typeof error === 'object') Object.assign(error, { [SIGNED_WITH]: identity });
        throw error;
      }
    },
    { step: 'build', name: 'bedrockBridgeSigningIdentity' },
  );
}

function signedWithOf(error: unknown): AwsCredentialIdentity | undefined {
  return error !== null && typeof error === 'object' ? (error as { [SIGNED_WITH]?: AwsCredentialIdentity })[SIGNED_WITH] : undefined;
}

/**
 * Credentials other than `rejected`: those the client holds already (another request refreshed them
 * meanwhile), else a forced refresh. It goes through the client's own credential provider, the SDK's
 * memoizing wrapper around ours: asking ours alone would leave the wrapper signing with the rejected
 * ones until their expiration. Concurrent forced refreshes share one fetch (both layers coalesce).
 */
async function renewedCredentials(runtime: BedrockRuntimeClient, rejected: AwsCredentialIdentity): Promise<AwsCredentialIdentity> {
  const credentials = runtime.config.credentials;
  const current = await credentials();
  if (current.accessKeyId !== rejected.accessKeyId) return current;
  return credentials({ forceRefresh: true });
}

/**
 * Sends a Bedrock runtime command; when Bedrock rejects the credentials it was signed with, refreshes
 * them once and sends it again, once. `command` builds a new command per attempt (hooks included).
 *
 * - Only credential rejections are retried, and only when the refresh brings other credentials:
 *   static and environment credentials come back the same, and the rejection passes through.
 * - A refresh that says the source cannot help (SignInRequiredError: the session is over, and the
 *   source has told the app; NotEntitledError; CredentialConfigurationError) is thrown instead of the
 *   rejection; any other refresh failure leaves the rejection as the answer.
 * - A ConverseStream's credential rejection is its HTTP response: `send` rejects before any event,
 *   so nothing has reached the client yet when it is retried.
 */
export async function sendWithCredentialRetry<Input extends ServiceInputTypes, Output extends ServiceOutputTypes>(
  runtime: BedrockRuntimeClient,
  command: () => RuntimeCommand<Input, Output>,
  options: HttpHandlerOptions = {},
): Promise<Output> {
  tagErrorsWithSigningIdentity(runtime);
  try {
    return await runtime.send(command(), options);
  } catch (rejection) {
    const rejected = signedWithOf(rejection);
    if (!CREDENTIAL_REJECTIONS.has(nameOf(rejection)) || !rejected?.accessKeyId || options.abortSignal?.aborted) throw rejection;
    let renewed: AwsCredentialIdentity;
    try {
      renewed = await renewedCredentials(runtime, rejected);
    } catch (refreshError) {
      throw SOURCE_VERDICTS.has(nameOf(refreshError)) ? refreshError : rejection;
    }
    if (renewed.accessKeyId === rejected.accessKeyId) throw rejection;
    return runtime.send(command(), options);
  }
}
