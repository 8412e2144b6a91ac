/**
 * A Claude thinking block carried through a Responses client as a reasoning item's
 * `encrypted_content`, so the next turn can give it back to Bedrock exactly (Claude checks the
 * signature; a tool loop with thinking needs the block). The content is the user's own conversation on
 * their own machine: it is encoded, not encrypted. Other values (OpenAI's encrypted reasoning, another
 * gateway's) are not ours to read: decodeReasoning returns null for them.
 */
import type { ContentBlock } from '@aws-sdk/client-bedrock-runtime';

const PREFIX = 'bbr1.';

/** A thinking block as Bedrock returns it: text with its signature, or redacted (opaque bytes). */
export type ThinkingBlock = { text: string; signature: string } | { redacted: Uint8Array };

interface Encoded {
  t?: string;
  s?: string;
  r?: string;
}

export function encodeReasoning(block: ThinkingBlock): string {
  const encoded: Encoded = 'redacted' in block ? { r: Buffer.from(block.redacted).toString('base64') } : { t: block.text, s: block.signature };
  return PREFIX + Buffer.from(JSON.stringify(encoded)).toString('base64url');
}

export function decodeReasoning(value: string): ContentBlock.ReasoningContentMember | null {
  if (!value.startsWith(PREFIX)) return null;
  let encoded: Encoded;
  try {
    encoded = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8')) as Encoded;
  } catch {
    return null;
  }
  if (typeof encoded.r === 'string') return { reasoningContent: { redactedContent: Buffer.from(encoded.r, 'base64') } };
  if (typeof encoded.t === 'string' && typeof encoded.s === 'string' && encoded.s !== '') {
    return { reasoningContent: { reasoningText: { text: encoded.t, signature: encoded.s } } };
  }
  return null;
}
