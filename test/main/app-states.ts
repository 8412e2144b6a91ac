/** AppState of each status, as the core would report it, for the tray and window tests. */
import type { AppState, AppStatus } from '../../src/app/types.ts';
import { DEFAULT_ALIASES, DEFAULT_MODEL } from '../../src/core/model-catalog.ts';

const SERVING: AppState = {
  status: 'serving',
  message: 'Serving on http://127.0.0.1:8741/v1',
  baseUrl: 'http://127.0.0.1:8741/v1',
  port: 8741,
  portHolder: null,
  region: 'us-east-1',
  emulator: false,
  credentials: {
    source: 'identity-center',
    label: 'IAM Identity Center (https://example.awsapps.com/start)',
    interactive: true,
    signedIn: true,
    user: 'jane@example.com',
    credentialsExpireAt: '2026-12-02T21:00:00.000Z',
  },
  signIn: null,
  signInError: null,
  models: { defaultModel: 'gpt-4o', defaultModelId: DEFAULT_MODEL, aliases: { ...DEFAULT_ALIASES, fast: 'amazon.nova-micro-v1:0' } },
  restartRequired: [],
  pinned: {},
  secretStorage: { kind: 'os-keychain', persistent: true, warning: null },
  ledgerPath: '/home/jane/.local/share/bedrock-bridge/usage.sqlite',
  settingsPath: '/home/jane/.local/share/bedrock-bridge/settings.json',
};

const notListening = { baseUrl: null } as const;
const signedOut = { ...SERVING.credentials, signedIn: false, user: null, credentialsExpireAt: null };

export const STATES: Record<AppStatus | 'port-in-use-by-bridge' | 'serving-env', AppState> = {
  starting: { ...SERVING, ...notListening, status: 'starting', message: 'Starting…' },
  serving: SERVING,
  'serving-env': { ...SERVING, credentials: { source: 'env', label: 'Environment variables', interactive: false, signedIn: true, user: null, credentialsExpireAt: null } },
  'needs-sign-in': { ...SERVING, status: 'needs-sign-in', message: 'Sign in to use Bedrock', credentials: signedOut },
  'signing-in': {
    ...SERVING,
    status: 'signing-in',
    message: 'Enter the code in the browser',
    credentials: signedOut,
    signIn: {
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://device.sso.us-east-1.amazonaws.com/',
      verificationUriComplete: 'https://device.sso.us-east-1.amazonaws.com/?user_code=WDJB-MJHT',
      expiresAt: '2026-12-02T20:10:00.000Z',
    },
  },
  error: { ...SERVING, ...notListening, status: 'error', message: 'Settings file settings.json: port must be at most 65535' },
  'port-in-use': { ...SERVING, ...notListening, status: 'port-in-use', portHolder: 'other-program', message: 'Port 8741 is in use by another program.' },
  'port-in-use-by-bridge': { ...SERVING, ...notListening, status: 'port-in-use', portHolder: 'bedrock-bridge', message: 'Bedrock Bridge is already serving on port 8741.' },
  stopped: { ...SERVING, ...notListening, status: 'stopped', message: 'Stopped' },
};
