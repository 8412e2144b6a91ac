// oidc-provider ships no type declarations; the tests use it through a narrow surface.
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: unknown);
    /** Issued access tokens (opaque: found by their value). */
    readonly AccessToken: { find(value: string): Promise<{ destroy(): Promise<void> } | undefined> };
    /** Koa middleware around every route (code after `await next()` sees the route's answer). */
    use(middleware: (ctx: never, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  }
}
