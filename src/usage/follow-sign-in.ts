import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** The part of src/credentials' CredentialSource that tells when a session ended and when it works again. */
export interface SignInFollowingSource {
  readonly credentials: AwsCredentialIdentityProvider;
  status(): { signedIn: boolean };
  onSignInRequired(listener: () => void): () => void;
}

export interface FollowSignInOptions {
  /** How often to check, while signed out, whether credentials work again. Default 5 s. */
  checkEveryMs?: number;
}

/**
 * Calls `signedIn` (the usage pipeline's: re-read the identity, sync at once) each time the source
 * is signed in again after its session ended. Sources announce only the end (onSignInRequired); a
 * new sign-in shows as credentials that work again — after the window's sign-in, or for an
 * aws-profile source after `aws sso login` in a terminal — so, only while signed out, it asks the
 * source for credentials every `checkEveryMs`. Asking only once the source's status says signed in
 * keeps a device-flow source from touching its vault while it has no session. The initial sign-in
 * needs nothing: the pipeline looks the identity up and syncs when it starts.
 * Returns a function that stops following.
 */
export function followSignIn(source: SignInFollowingSource, signedIn: () => Promise<void>, options: FollowSignInOptions = {}): () => void {
  const checkEveryMs = options.checkEveryMs ?? 5_000;
  let timer: NodeJS.Timeout | null = null;
  let checking = false;

  const check = async (): Promise<void> => {
    if (checking || !source.status().signedIn) return;
    checking = true;
    try {
      await source.credentials();
    } catch {
      return; // still signed out: the next check asks again
    } finally {
      checking = false;
    }
    if (timer === null) return; // stopped meanwhile
    clearInterval(timer);
    timer = null;
    await signedIn().catch(() => {});
  };

  const unsubscribe = source.onSignInRequired(() => {
    if (timer !== null) return;
    timer = setInterval(() => void check(), checkEveryMs);
    timer.unref();
  });
  return () => {
    unsubscribe();
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
}
