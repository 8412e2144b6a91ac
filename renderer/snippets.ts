/**
 * Ready-to-paste configuration for the tools people point at Bedrock Bridge, filled with this machine's
 * URL and key. This is data, kept in one place so whoever knows a tool better can correct its entry:
 * the Setup tab renders every entry in order, and the README's "Pointing tools at it" says the same.
 *
 * Facts: the README (OpenAI clients), ../shared/research/messages-and-responses.md sections 1, 2 and 6
 * (Claude Code in both modes, the Anthropic SDK, Bedrock clients, Codex).
 */

export interface SnippetContext {
  /** The server's origin, e.g. `http://127.0.0.1:8741` (Anthropic and Bedrock clients add their own paths). */
  origin: string;
  /** The OpenAI base URL, `${origin}/v1`. */
  baseURL: string;
  /** The local API key, or a masked stand-in while the key is hidden on screen. */
  apiKey: string;
  /** A model name the server resolves: the configured default's alias or id, else `default`. */
  model: string;
  /** The AWS region the server calls (Claude Code's Bedrock mode picks profile prefixes from it). */
  region: string;
}

export interface Snippet {
  id: string;
  /** The tool, as its users call it. */
  title: string;
  /** Where the text goes: a file, a settings screen, a shell. */
  where: string;
  language: 'sh' | 'js' | 'python' | 'yaml' | 'json' | 'toml' | 'text';
  text: (context: SnippetContext) => string;
  /** One sentence a user needs to avoid the usual mistake. */
  note?: string;
}

export const SNIPPETS: readonly Snippet[] = [
  {
    id: 'openai-js',
    title: 'openai SDK (JavaScript)',
    where: 'your code',
    language: 'js',
    text: ({ baseURL, apiKey, model }) => `import OpenAI from 'openai';
const client = new OpenAI({ baseURL: '${baseURL}', apiKey: '${apiKey}' });
const reply = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Hi' }],
});`,
    note: 'The SDK also reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment.',
  },
  {
    id: 'openai-python',
    title: 'openai SDK (Python)',
    where: 'your code',
    language: 'python',
    text: ({ baseURL, apiKey, model }) => `from openai import OpenAI
client = OpenAI(base_url="${baseURL}", api_key="${apiKey}")
reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hi"}],
)`,
  },
  {
    id: 'claude-code',
    title: 'Claude Code',
    where: 'shell, before running claude',
    language: 'sh',
    text: ({ origin, apiKey, model }) => `export ANTHROPIC_BASE_URL=${origin}
export ANTHROPIC_AUTH_TOKEN=${apiKey}
export ANTHROPIC_MODEL=${model}
claude`,
    note: 'No /v1 on the base URL: Claude Code adds /v1/messages itself. ANTHROPIC_MODEL (any alias or Bedrock id) replaces Claude Code\'s own default, which your account may not have. The same variables work in the "env" object of ~/.claude/settings.json.',
  },
  {
    id: 'claude-code-bedrock',
    title: 'Claude Code (Bedrock mode)',
    where: 'shell, before running claude',
    language: 'sh',
    text: ({ origin, apiKey, region }) => `export CLAUDE_CODE_USE_BEDROCK=1
export ANTHROPIC_BEDROCK_BASE_URL=${origin}
export AWS_BEARER_TOKEN_BEDROCK=${apiKey}
export AWS_REGION=${region}
claude`,
    note: 'Claude Code sends Bedrock requests; the bridge signs them with your sign-in. AWS_REGION picks the us./eu./apac. profile prefix. CLAUDE_CODE_SKIP_BEDROCK_AUTH=1 with the key in ANTHROPIC_AUTH_TOKEN works too.',
  },
  {
    id: 'anthropic-python',
    title: 'Anthropic SDK (Python)',
    where: 'your code',
    language: 'python',
    text: ({ origin, apiKey, model }) => `import anthropic
client = anthropic.Anthropic(base_url="${origin}", api_key="${apiKey}")
message = client.messages.create(
    model="${model}",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Hi"}],
)`,
  },
  {
    id: 'anthropic-js',
    title: 'Anthropic SDK (JavaScript)',
    where: 'your code',
    language: 'js',
    text: ({ origin, apiKey, model }) => `import Anthropic from '@anthropic-ai/sdk';
const client = new Anthropic({ baseURL: '${origin}', apiKey: '${apiKey}' });
const message = await client.messages.create({
  model: '${model}',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hi' }],
});`,
  },
  {
    id: 'boto3',
    title: 'boto3 (Bedrock Runtime)',
    where: 'shell, then your code',
    language: 'python',
    text: ({ origin, apiKey, model, region }) => `# export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${origin}
# export AWS_BEARER_TOKEN_BEDROCK=${apiKey}
# export AWS_REGION=${region}
import boto3
client = boto3.client("bedrock-runtime")
reply = client.converse(
    modelId="${model}",
    messages=[{"role": "user", "content": [{"text": "Hi"}]}],
)`,
    note: 'The local key travels as a Bedrock API key (bearer token); no AWS keys are needed in your code.',
  },
  {
    id: 'aws-sdk-js',
    title: 'AWS SDK for JavaScript (Bedrock Runtime)',
    where: 'shell, then your code',
    language: 'js',
    text: ({ origin, apiKey, model, region }) => `// export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=${origin}
// export AWS_BEARER_TOKEN_BEDROCK=${apiKey}
// export AWS_REGION=${region}
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
const client = new BedrockRuntimeClient({});
const reply = await client.send(new ConverseCommand({
  modelId: '${model}',
  messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
}));`,
  },
  {
    id: 'codex',
    title: 'Codex',
    where: '~/.codex/config.toml (and the key in your shell)',
    language: 'toml',
    text: ({ baseURL, apiKey, model }) => `# export BEDROCK_BRIDGE_API_KEY=${apiKey}
model = "${model}"
model_provider = "bedrock-bridge"
# Made by the catalogue command in the README (keeps apply_patch and image input); an absolute path.
model_catalog_json = "/home/YOU/.codex/bedrock-models.json"
web_search = "disabled"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[features]
plugins = false

[model_providers.bedrock-bridge]
name = "Bedrock Bridge"
base_url = "${baseURL}"
env_key = "BEDROCK_BRIDGE_API_KEY"
wire_api = "responses"`,
    note: 'Codex speaks only the Responses API ("chat" is refused); built-in provider ids cannot be overridden. The model catalogue (README, "Codex CLI") lets Codex keep apply_patch and image input for the models it lists (claude-sonnet, claude-opus, claude-haiku; add an entry for another); the analytics, feedback and features tables keep Codex off the internet. For a model without extended thinking (Nova, Llama, ...) add model_reasoning_effort = "none".',
  },
  {
    id: 'continue',
    title: 'Continue',
    where: '~/.continue/config.yaml',
    language: 'yaml',
    text: ({ baseURL, apiKey, model }) => `models:
  - name: Bedrock Bridge
    provider: openai
    model: ${model}
    apiBase: ${baseURL}
    apiKey: ${apiKey}
    roles: [chat, edit, apply]
  - name: Bedrock Bridge embeddings
    provider: openai
    model: text-embedding-3-small
    apiBase: ${baseURL}
    apiKey: ${apiKey}
    roles: [embed]`,
  },
  {
    id: 'cursor',
    title: 'Cursor',
    where: 'Settings → Models → API Keys',
    language: 'text',
    text: ({ baseURL, apiKey, model }) => `OpenAI API Key:           ${apiKey}
Override OpenAI Base URL: ${baseURL}
Model name (Models list): ${model}`,
    note: 'Cursor sends many requests from its own servers, which cannot reach 127.0.0.1: those report a connection error.',
  },
  {
    id: 'aider',
    title: 'aider',
    where: 'shell',
    language: 'sh',
    text: ({ baseURL, apiKey, model }) => `export OPENAI_API_BASE=${baseURL}
export OPENAI_API_KEY=${apiKey}
aider --model openai/${model}`,
    note: 'The openai/ prefix makes aider use the OpenAI protocol; the rest is what the bridge resolves.',
  },
  {
    id: 'cline',
    title: 'Cline',
    where: 'Settings → API Provider: OpenAI Compatible',
    language: 'text',
    text: ({ baseURL, apiKey, model }) => `Base URL: ${baseURL}
API Key:  ${apiKey}
Model ID: ${model}`,
  },
  {
    id: 'zed',
    title: 'Zed',
    where: 'settings.json (the key: in the provider settings)',
    language: 'json',
    text: ({ baseURL, model }) =>
      JSON.stringify(
        {
          language_models: {
            openai_compatible: {
              'bedrock-bridge': {
                api_url: baseURL,
                available_models: [{ name: model, display_name: `${model} (Bedrock Bridge)`, max_tokens: 200000, capabilities: { tools: true, images: true, parallel_tool_calls: true } }],
              },
            },
          },
        },
        null,
        2,
      ),
    note: 'Zed does not read the key from settings.json: enter it in the provider settings, or start Zed with BEDROCK_BRIDGE_API_KEY set.',
  },
];
