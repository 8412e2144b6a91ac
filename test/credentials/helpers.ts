import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';

export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Mounts Hono apps on one plain HTTP/1.1 server on 127.0.0.1, port 0. */
export async function serveApps(apps: Hono[]): Promise<TestServer> {
  const root = new Hono();
  for (const app of apps) root.route('/', app);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: root.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
