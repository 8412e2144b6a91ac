import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { VaultProtection } from './vault.ts';

export type CredentialSourceKind = 'env' | 'aws-profile' | 'identity-center' | 'org-gateway';

export interface SignedInIdentity {
  user: string;
  source: CredentialSourceKind;
  accountId?: string;
  roleName?: string;
  arn?: string;
}

export interface CredentialStatus {
  source: CredentialSourceKind;
  signedIn: boolean;
  user: string | null;
  credentialsExpireAt: Date | null;
  sessionEndsAt: Date | null;
  warning: string | null;
  /** Where a device-flow sign-in keeps its tokens; null for sources that hold none (aws-profile, env). */
  tokenStorage: VaultProtection | null;
}

export interface CredentialSource {
  readonly kind: CredentialSourceKind;
  /** For the Bedrock clients: in-memory, refreshed >= 5 min ahead of expiry, one refresh at a time; throws SignInRequiredError when only a new sign-in helps. */
  readonly credentials: AwsCredentialIdentityProvider;
  identity(): Promise<SignedInIdentity | null>;
  status(): CredentialStatus;
  /** Org-gateway mode only: the OIDC access token, for the audit endpoint's Authorization header; renew after a 401. */
  bearerToken?(options?: { forceRefresh?: boolean }): Promise<string>;
  /** Fires when the user must sign in again (the tray/CLI raise it). */
  onSignInRequired(listener: () => void): () => void;
}

/** What a device-flow sign-in shows the user: print it (CLI) or show it and open the URL (window). */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresAt: Date;
}

export interface SignInUi {
  /** Shows the code and where to enter it. */
  prompt(info: DeviceCodePrompt): void;
  /** Opens the verification URL in the system browser (no-op headless). */
  openUrl?(url: string): void | Promise<void>;
}

/** A tiny listener set for onSignInRequired. */
export class SignInRequiredSignal {
  readonly #listeners = new Set<() => void>();
  #raised = false;

  on(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Fires once per signed-in period; reset() re-arms it after a new sign-in. */
  raise(): void {
    if (this.#raised) return;
    this.#raised = true;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // a listener's failure is not ours to surface
      }
    }
  }

  reset(): void {
    this.#raised = false;
  }
}
