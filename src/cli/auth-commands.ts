import { parseArgs } from 'node:util';
import { defaultDataDirectory } from '../core/paths.ts';
import {
  createCredentialSource,
  isInteractiveSource,
} from '../credentials/index.ts';
import type { CredentialSource, SignedInIdentity, SignInUi } from '../credentials/credential-source.ts';
import { terminalSignInUi } from './open-browser.ts';
import { IdentityCenterSource } from '../credentials/identity-center.ts';
import { isCredentialSourceKind, loadCredentialSettings, saveCredentialSettings } from '../credentials/settings.ts';
import type { CredentialSettings } from '../credentials/settings.ts';
import { openVault } from '../credentials/vault.ts';
import type { TokenVault, VaultProtection } from '../credentials/vault.ts';
import { messageOf } from '../core/error-message.ts';

/** What the commands touch; tests pass their own. */
export interface AuthCommandIo {
  env: NodeJS.ProcessEnv;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** A vault to use instead of opening the OS keychain (tests, or a shared in-process vault). */
  vault?: TokenVault;
  ui?: SignInUi;
}

const defaultIo = (): AuthCommandIo => ({
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});

const LOGIN_HELP = `Usage: bedrock-bridge login [options]

Signs in and remembers the (non-secret) sign-in settings in the data directory.
Tokens go to the OS keychain; without one they stay in memory (use \`serve\`, which signs in itself).

  --auth SOURCE            identity-center, org-gateway, aws-profile or env (default: the saved one)
  --start-url URL          Identity Center start URL (https://<org>.awsapps.com/start)
  --sso-region REGION      Identity Center region
  --account ID             AWS account to use (Identity Center)
  --role NAME              Permission set / role to use (Identity Center)
  --gateway URL            Org gateway URL (org-gateway)
  --profile NAME           AWS CLI profile (aws-profile)
  --allow-long-lived-keys  Accept IAM user access keys (not recommended)
  --memory-only            Never store tokens, even in the keychain
  --no-browser             Only print the sign-in URL and code (also: BROWSER=none)
  -h, --help               Show this help
`;

async function vaultFor(io: AuthCommandIo, settings: CredentialSettings, dataDir: string): Promise<TokenVault> {
  return io.vault ?? openVault({ dataDir, ...(settings.memoryOnlyVault ? { memoryOnly: true } : {}) });
}

function fail(io: AuthCommandIo, error: unknown): number {
  io.stderr(`bedrock-bridge: ${messageOf(error)}`);
  return 1;
}

/**
 * Fetches AWS credentials, then the user's name. A process that has just started (every `status`) holds
 * no credentials, and their expiry is only known once they are fetched; the fetch also shows whether the
 * session still works (ended, not entitled, no role chosen): `problem` says why not, for the user.
 */
async function checkSignIn(source: CredentialSource): Promise<{ identity: SignedInIdentity | null; problem: string | null }> {
  try {
    await source.credentials();
  } catch (error) {
    return { identity: null, problem: `no AWS credentials yet: ${messageOf(error)}` };
  }
  try {
    return { identity: await source.identity(), problem: null };
  } catch (error) {
    return { identity: null, problem: `the user name could not be read (sts:GetCallerIdentity): ${messageOf(error)}` };
  }
}

const TOKEN_STORAGE: Record<VaultProtection, string> = {
  'os-keychain': 'the OS keychain',
  'electron-safe-storage': "Electron's safeStorage (encrypted, in the data directory)",
  'memory-only': 'memory only (gone when this process ends)',
};

/** Where a device-flow sign-in keeps its tokens; null for sources that hold none (aws-profile, env). */
function tokenStorageOf(source: CredentialSource, vault: TokenVault): VaultProtection | null {
  return isInteractiveSource(source) ? vault.protection : null;
}

/**
 * The lifetime lines both `login` and `status` print. Only the two sign-in flows have a session that
 * renews itself; a profile or the environment just has credentials.
 */
function lifetimeLines(source: CredentialSource): string[] {
  const status = source.status();
  const renewing = status.signedIn && isInteractiveSource(source);
  return [
    `Credentials expire:  ${status.credentialsExpireAt?.toISOString() ?? '-'}`,
    `Session ends:        ${status.sessionEndsAt?.toISOString() ?? (renewing ? 'when your organisation ends it (renews silently until then)' : '-')}`,
  ];
}

export async function runLogin(argv: string[], io: AuthCommandIo = defaultIo()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        auth: { type: 'string' },
        'start-url': { type: 'string' },
        'sso-region': { type: 'string' },
        account: { type: 'string' },
        role: { type: 'string' },
        gateway: { type: 'string' },
        profile: { type: 'string' },
        'allow-long-lived-keys': { type: 'boolean' },
        'memory-only': { type: 'boolean' },
        'no-browser': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr(LOGIN_HELP);
    return fail(io, error);
  }
  if (values.help) {
    io.stdout(LOGIN_HELP);
    return 0;
  }
  const dataDir = defaultDataDirectory(io.env);
  let stored: Partial<CredentialSettings>;
  try {
    stored = (await loadCredentialSettings(dataDir)) ?? {};
  } catch (error) {
    return fail(io, error);
  }
  const kind = values.auth ?? stored.source ?? (values.gateway ? 'org-gateway' : values['start-url'] ? 'identity-center' : values.profile ? 'aws-profile' : undefined);
  if (!isCredentialSourceKind(kind)) {
    io.stderr(LOGIN_HELP);
    return fail(io, kind ? `unknown --auth "${kind}"` : 'say how to sign in: --start-url (Identity Center), --gateway (org gateway) or --profile');
  }
  const settings: CredentialSettings = { ...stored, source: kind } as CredentialSettings;
  if (values['allow-long-lived-keys']) settings.allowLongLivedKeys = true;
  if (values['memory-only']) settings.memoryOnlyVault = true;
  if (kind === 'identity-center') {
    const previous = stored.identityCenter;
    const startUrl = values['start-url'] ?? previous?.startUrl;
    const region = values['sso-region'] ?? previous?.region;
    if (!startUrl || !region) return fail(io, 'Identity Center needs --start-url and --sso-region');
    const sameOrg = previous?.startUrl === startUrl;
    settings.identityCenter = {
      ...(sameOrg ? previous : {}),
      startUrl,
      region,
      ...(values.account ? { accountId: values.account } : {}),
      ...(values.role ? { roleName: values.role } : {}),
    };
  } else if (kind === 'org-gateway') {
    const url = values.gateway ?? stored.orgGateway?.url;
    if (!url) return fail(io, 'org gateway mode needs --gateway URL');
    settings.orgGateway = { url };
  } else if (kind === 'aws-profile') {
    const profile = values.profile ?? stored.awsProfile?.profile;
    settings.awsProfile = profile ? { profile } : {};
  }

  try {
    const vault = await vaultFor(io, settings, dataDir);
    const source = await createCredentialSource(settings, {
      dataDir,
      vault,
      ui: io.ui ?? terminalSignInUi(io.stderr, values['no-browser'] ? { ...io.env, BROWSER: 'none' } : io.env),
      signInIfNeeded: false,
      log: io.stderr,
    });
    const idc = source instanceof IdentityCenterSource ? source : null;
    if (isInteractiveSource(source)) {
      await source.signIn();
      if (idc && (!idc.settings.accountId || !idc.settings.roleName)) {
        const choice = await chooseRole(idc, io);
        if (!choice) {
          await saveCredentialSettings(dataDir, settings);
          return 2;
        }
        settings.identityCenter = { ...settings.identityCenter!, accountId: choice.accountId, roleName: choice.roleName };
      }
    }
    await saveCredentialSettings(dataDir, settings);
    const { identity, problem } = await checkSignIn(source);
    io.stdout(`Signed in${identity ? ` as ${identity.user}` : ''} (${source.kind}${identity?.accountId ? `, account ${identity.accountId}` : ''}${identity?.roleName ? `, role ${identity.roleName}` : ''}).`);
    for (const line of lifetimeLines(source)) io.stdout(line);
    const storage = tokenStorageOf(source, vault);
    if (storage) io.stdout(`Tokens stored in:    ${TOKEN_STORAGE[storage]}`);
    if (storage === 'memory-only') {
      io.stderr('Note: tokens are kept in memory only, so this sign-in ends with this command. `bedrock-bridge serve` signs you in when it starts.');
    }
    if (problem !== null) return fail(io, `signed in, but ${problem}`);
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}

async function chooseRole(source: IdentityCenterSource, io: AuthCommandIo): Promise<{ accountId: string; roleName: string } | null> {
  const accounts = await source.listAccounts();
  const roles = (await Promise.all(accounts.map((a) => source.listRoles(a.accountId)))).flat();
  if (roles.length === 1) {
    source.selectRole(roles[0]!.accountId, roles[0]!.roleName);
    return roles[0]!;
  }
  io.stderr('Choose the account and role to use, then run login again with --account and --role:');
  for (const account of accounts) {
    for (const role of roles.filter((r) => r.accountId === account.accountId)) {
      io.stderr(`  --account ${account.accountId} --role ${role.roleName}   (${account.accountName ?? ''})`);
    }
  }
  return null;
}

export async function runLogout(argv: string[], io: AuthCommandIo = defaultIo()): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout('Usage: bedrock-bridge logout\n\nSigns out (revokes the session where the provider allows it) and wipes stored tokens.\n');
    return 0;
  }
  const dataDir = defaultDataDirectory(io.env);
  try {
    const stored = await loadCredentialSettings(dataDir);
    const vault = stored ? await vaultFor(io, stored, dataDir) : (io.vault ?? (await openVault({ dataDir })));
    if (stored && (stored.source === 'identity-center' || stored.source === 'org-gateway')) {
      const source = await createCredentialSource(stored, { dataDir, vault, signInIfNeeded: false, log: io.stderr });
      if (isInteractiveSource(source)) await source.signOut();
    }
    await vault.clear();
    io.stdout('Signed out. Stored tokens were removed.');
    return 0;
  } catch (error) {
    return fail(io, error);
  }
}

export async function runStatus(argv: string[], io: AuthCommandIo = defaultIo()): Promise<number> {
  const json = argv.includes('--json');
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout('Usage: bedrock-bridge status [--json]\n\nShows who is signed in, the credential source, and when credentials and the session end.\n');
    return 0;
  }
  const dataDir = defaultDataDirectory(io.env);
  let source: CredentialSource;
  let vault: TokenVault;
  try {
    const settings = await loadCredentialSettings(dataDir);
    if (!settings) {
      if (json) io.stdout(JSON.stringify({ signedIn: false, source: null }));
      else io.stdout('Not configured: no sign-in was set up with `bedrock-bridge login`; `serve` uses its --auth source (by default the AWS SDK\'s credential chain).');
      return 1;
    }
    vault = await vaultFor(io, settings, dataDir);
    source = await createCredentialSource(settings, { dataDir, vault, signInIfNeeded: false, log: () => {} });
  } catch (error) {
    return fail(io, error);
  }
  const { problem } = source.status().signedIn ? await checkSignIn(source) : { problem: null };
  const status = source.status();
  const storage = tokenStorageOf(source, vault);
  if (json) {
    io.stdout(
      JSON.stringify({
        source: status.source,
        signedIn: status.signedIn && problem === null,
        user: status.user,
        credentialsExpireAt: status.credentialsExpireAt?.toISOString() ?? null,
        sessionEndsAt: status.sessionEndsAt?.toISOString() ?? null,
        warning: status.warning,
        tokenStorage: storage,
        error: problem,
      }),
    );
  } else {
    io.stdout(`Source:              ${status.source}`);
    io.stdout(`Signed in:           ${status.signedIn && problem === null ? 'yes' : 'no'}`);
    io.stdout(`User:                ${status.user ?? '-'}`);
    for (const line of lifetimeLines(source)) io.stdout(line);
    if (storage) io.stdout(`Tokens stored in:    ${TOKEN_STORAGE[storage]}`);
    if (status.warning) io.stdout(`Warning:             ${status.warning}`);
    if (problem) io.stdout(`Problem:             ${problem}`);
  }
  return status.signedIn && problem === null ? 0 : 1;
}

/** The dispatcher src/cli/main.ts looks for. */
export async function runAuthCommand(command: string, argv: string[]): Promise<number> {
  if (command === 'login') return runLogin(argv);
  if (command === 'logout') return runLogout(argv);
  if (command === 'status') return runStatus(argv);
  process.stderr.write(`bedrock-bridge: unknown command ${command}\n`);
  return 2;
}
