/**
 * A map tile server on 127.0.0.1 for the browser tests (the machine has no internet, and
 * the city profile's tile URL points at OpenStreetMap). It answers every tile with a plain
 * PNG (pale land with a thin grid, so screenshots show where tiles are), and under
 * /slow-fail/ answers 404 after a delay: a tile that fails after the user has left a view.
 */
import http from 'node:http';
import zlib from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 256×256 RGB PNG (PNG spec: signature, IHDR, IDAT of filtered scanlines, IEND). */
function tilePng(): Buffer {
  const size = 256;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const grid = x % 64 === 0 || y % 64 === 0;
      const [r, g, b] = grid ? [214, 218, 206] : [242, 239, 233];
      raw.set([r, g, b], row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface TileServer {
  url: string;
  close(): Promise<void>;
}

export async function startTileServer(failDelayMs = 1500): Promise<TileServer> {
  const png = tilePng();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    if (request.url?.startsWith('/slow-fail/')) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        response.writeHead(404).end();
      }, failDelayMs);
      timers.add(timer);
      return;
    }
    response.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' }).end(png);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
