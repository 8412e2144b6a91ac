/**
 * The gateway in front of an Identity Center sign-in, over HTTP: what a client sees when the org ends
 * the session, and a stream that outlives the credentials it was signed with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAIErrorOf } from '../support/http.ts';
import { parseSse } from '../support/sse.ts';
import { CHAT_MODEL, chat, withSignedInBridge, type SignedInIdentityCenter } from './helpers.ts';

/** Resolves once the credentials in hand are past their expiration. */
async function outliveCredentials(t: SignedInIdentityCenter): Promise<void> {
  const expiresAt = t.source.status().credentialsExpireAt;
  assert.ok(expiresAt, 'the source holds credentials');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
}

test('the org ends the Identity Center session: chat completions answer 401 sign_in_required at once, naming the tray and `bedrock-bridge login`', () =>
  withSignedInBridge('carol', 2000, async (t, bridge) => {
    assert.equal((await chat(bridge, 'hello')).status, 200, 'signed in: served');
    let raised = 0;
    t.source.onSignInRequired(() => (raised += 1));

    t.idc.revokeSession('carol');
    await outliveCredentials(t);

    for (const stream of [false, true]) {
      const started = performance.now();
      const response = await chat(bridge, 'hello', stream);
      const elapsed = performance.now() - started;
      console.log(`session ended: ${stream ? 'streamed' : 'plain'} request answered ${response.status} in ${elapsed.toFixed(0)} ms`);
      assert.equal(response.status, 401);
      const error = openAIErrorOf(response);
      assert.equal(error.type, 'authentication_error');
      assert.equal(error.code, 'sign_in_required');
      assert.match(error.message, /tray/);
      assert.match(error.message, /`bedrock-bridge login`/);
      assert.ok(elapsed < 1500, `failed fast: ${elapsed.toFixed(0)} ms`);
    }
    // Once the session is known to be over, no request goes back to Identity Center.
    const tokenCalls = t.idc.stats.createTokenRefresh;
    assert.equal((await chat(bridge, 'hello')).status, 401);
    assert.equal(t.idc.stats.createTokenRefresh, tokenCalls);
    assert.equal(raised, 1, 'the tray/CLI is told once');
    assert.equal(t.source.status().signedIn, false);
  }));

test('a stream that outlives its credentials (expired and the session revoked mid-stream) reaches the client whole, with [DONE]', () =>
  withSignedInBridge('dana', 1500, async (t, bridge) => {
    const words = 30;
    const response = await fetch(`${bridge.baseURL}/chat/completions`, {
      method: 'POST',
      headers: bridge.headers(),
      // About 35 stream events 100 ms apart: the stream lasts ~3.5 s, the credentials 1.5 s.
      body: JSON.stringify({ model: CHAT_MODEL, stream: true, messages: [{ role: 'user', content: `[[slow:100ms]] [[chunks:${words}]] hello` }] }),
    });
    assert.equal(response.status, 200);
    const expiresAt = t.source.status().credentialsExpireAt!;
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let revoked = false;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += read.value;
      if (!revoked) {
        // The first bytes are here: the org ends the session, which also kills the role credentials.
        revoked = true;
        t.idc.revokeSession('dana');
      }
    }
    const finishedAt = Date.now();
    assert.ok(finishedAt > expiresAt.getTime(), `the stream ended ${finishedAt - expiresAt.getTime()} ms after the credentials expired`);

    const events = parseSse(text);
    console.log(`stream: ${events.length} events, ended ${finishedAt - expiresAt.getTime()} ms after its credentials expired`);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as { error?: unknown; choices: { delta: { content?: string }; finish_reason: string | null }[] });
    assert.ok(chunks.every((chunk) => chunk.error === undefined), 'no error event');
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(content.trim().split(/\s+/).length, words, 'every word arrived');
    assert.equal(chunks.findLast((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'stop');

    // The credentials really are gone: the next request needs a new sign-in.
    const after = await chat(bridge, 'hello');
    assert.equal(after.status, 401);
    assert.equal(openAIErrorOf(after).code, 'sign_in_required');
  }));
