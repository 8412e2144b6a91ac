import type { HttpResponse, MiddlewareStack } from '@smithy/types';

/**
 * Hands `seen` the raw HTTP response of a Bedrock command, for what the SDK's output does not model
 * (the token-count headers of InvokeModel) or hides (the HTTP/2 stream of ConverseStream). A
 * deserialize-step middleware sits inside the retry loop, so a retried call reports its last attempt.
 */
export function onRawResponse<Input extends object, Output extends object>(
  command: { middlewareStack: MiddlewareStack<Input, Output> },
  seen: (response: HttpResponse) => void,
): void {
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      seen(result.response as HttpResponse);
      return result;
    },
    { step: 'deserialize', name: 'bedrockBridgeRawResponse' },
  );
}

/** A token-count header (`x-amzn-bedrock-input-token-count`, …) as a number; undefined when absent or not a count. */
export function tokenCountHeader(response: HttpResponse, name: string): number | undefined {
  const value = response.headers[name];
  if (value === undefined || value === '') return undefined;
  const count = Number(value);
  return Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}
