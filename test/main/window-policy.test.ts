import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appOrigin, isOwnUrl, mayOpenExternally, notServingPage, permissionAllowed } from '../../src/main/window-policy.ts';
import { STATES } from './app-states.ts';

describe('window policy', () => {
  const origin = appOrigin(STATES.serving);

  it('the window stays on the local server origin', () => {
    assert.equal(origin, 'http://127.0.0.1:8741');
    assert.equal(isOwnUrl('http://127.0.0.1:8741/ui/#models', origin), true);
    for (const url of ['http://127.0.0.1:8742/ui/', 'http://localhost:8741/ui/', 'https://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url']) {
      assert.equal(isOwnUrl(url, origin), false, url);
    }
    assert.equal(isOwnUrl('http://127.0.0.1:8741/ui/', appOrigin(STATES['port-in-use'])), false);
  });

  it('the browser opens only the verification page of the sign-in under way', () => {
    const state = STATES['signing-in'];
    assert.equal(mayOpenExternally(state.signIn!.verificationUriComplete!, state), true);
    assert.equal(mayOpenExternally(state.signIn!.verificationUri, state), true);
    for (const url of ['https://device.sso.us-east-1.amazonaws.com/?user_code=EVIL-CODE', 'https://example.com/', 'file:///etc/passwd', 'javascript:alert(1)']) {
      assert.equal(mayOpenExternally(url, state), false, url);
    }
    assert.equal(mayOpenExternally('https://device.sso.us-east-1.amazonaws.com/', STATES.serving), false);
    const sneaky = { ...state, signIn: { ...state.signIn!, verificationUri: 'file:///etc/passwd' } };
    assert.equal(mayOpenExternally('file:///etc/passwd', sneaky), false);
  });

  it('permissions: clipboard writes from the own origin only', () => {
    assert.equal(permissionAllowed('clipboard-sanitized-write', 'http://127.0.0.1:8741/ui/', origin), true);
    assert.equal(permissionAllowed('clipboard-sanitized-write', 'http://127.0.0.1:9999/', origin), false);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      assert.equal(permissionAllowed(permission, 'http://127.0.0.1:8741/ui/', origin), false, permission);
    }
  });

  it('not serving: a static page with the reason and what to do, escaped, no script', () => {
    const page = decodeURIComponent(notServingPage({ ...STATES['port-in-use'], message: 'held by <b>nginx</b>' }).split(',')[1]!);
    assert.match(page, /<h1>Port 8741 is in use<\/h1>/);
    assert.match(page, /held by &#60;b&#62;nginx&#60;\/b&#62;/);
    assert.match(page, /Use another port/);
    assert.doesNotMatch(page, /<script/);
  });
});
