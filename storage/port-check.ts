import net from 'node:net';

/**
 * Fails with a message that names the port, what wanted it and the variable that
 * changes it, instead of a bare EADDRINUSE later on.
 */
export async function assertPortFree(port: number, what: string, variable: string, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${host}, wanted by the ${what}, is already in use: set ${variable} to a free port`));
      } else {
        reject(error);
      }
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
