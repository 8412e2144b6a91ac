import { describe, it } from 'node:test';
import { settingsFileProperty, signInFileProperty } from './loader-fuzz.ts';
import { checkProperty } from './support.ts';

describe('fuzz: the settings and sign-in files', () => {
  it('settings.json: loads or fails with SettingsError, never quoting the API key', async () => {
    await checkProperty(settingsFileProperty(), 300);
  });

  it('sign-in.json: loads or fails with CredentialConfigurationError', async () => {
    await checkProperty(signInFileProperty(), 300);
  });
});
