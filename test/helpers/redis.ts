/** A Redis of the test's own: a free loopback port, and a way to stop the server started on it. */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function shutdownRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {}); // the server going away is the point
  await client.connect().catch(() => {});
  await client.call('shutdown', 'nosave').catch(() => {});
  client.disconnect();
}
