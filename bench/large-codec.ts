/**
 * A large vendor-style codec of our own making, for `bench decoders` and the hoisting
 * tests. It has the shape of the largest codecs in The Things Network's device
 * repository (Tektelic's decoder_*.js, 60–95 KB): decodeUplink opens with one big
 * constant table of channel/type headers and field descriptors (sizes, bit ranges,
 * coefficients as strings), then walks the payload against it. No vendor code is in it.
 */

/** Channel/type headers with their fields, as the table lists them. */
function table(entries: number): string {
  const ports: string[] = [];
  let n = 0;
  for (const port of [10, 20, 30, 100]) {
    const headers: string[] = [];
    for (let h = 0; h < Math.ceil(entries / 4); h++) {
      const header = `0x${(h & 0xff).toString(16).padStart(2, '0')} 0x${((h * 7 + port) & 0xff).toString(16).padStart(2, '0')}`;
      const fields: string[] = [];
      for (let f = 0; f < 1 + (h % 3); f++) {
        fields.push(`        {
          "data_size": "${1 + (f % 2)}",
          "bit_start": "${f % 2 ? 15 : 7}",
          "bit_end": "0",
          "type": "${h % 2 ? 'signed' : 'unsigned'}",
          "parameter_name": "field_${n++}",
          "group_name": "${h % 5 === 0 ? 'group_' + (h % 7) : ''}",
          "round": "${h % 3}",
          "coefficient": "${h % 4 === 0 ? '0.1' : '1'}",
          "addition": ""
        }`);
      }
      headers.push(`      "${header}": [\n${fields.join(',\n')}\n      ]`);
    }
    ports.push(`    "${port}": {\n${headers.join(',\n')}\n    }`);
  }
  return `{\n${ports.join(',\n')}\n  }`;
}

/** The codec's source, about `targetBytes` long (default 80 KB). */
export function largeCodec(targetBytes = 80_000): string {
  let entries = 40;
  let source = '';
  while (source.length < targetBytes) {
    source = `function decodeUplink(input) {
  var sensor = ${table(entries)};
  function value(bytes, i, p) {
    var size = Number(p.data_size), v = 0;
    for (var k = 0; k < size; k++) v = (v << 8) | (bytes[i + k] || 0);
    if (p.type === 'signed' && v >= 1 << (size * 8 - 1)) v -= 1 << (size * 8);
    var r = v * Number(p.coefficient);
    var d = Number(p.round || 0);
    return d > 0 ? Number(r.toFixed(d)) : r;
  }
  var port = String(input.fPort), headers = sensor[port];
  if (!headers) return { data: {}, warnings: [], errors: ['unknown fPort ' + port] };
  var data = {}, bytes = input.bytes, i = 0;
  while (i + 1 < bytes.length) {
    var key = '0x' + ('0' + bytes[i].toString(16)).slice(-2) + ' 0x' + ('0' + bytes[i + 1].toString(16)).slice(-2);
    var fields = headers[key];
    if (!fields) return { data: data, warnings: [], errors: ['unknown header ' + key] };
    i += 2;
    for (var f = 0; f < fields.length; f++) {
      var p = fields[f];
      var target = p.group_name ? (data[p.group_name] = data[p.group_name] || {}) : data;
      target[p.parameter_name] = value(bytes, i, p);
      i += Number(p.data_size);
    }
  }
  return { data: data, warnings: [], errors: [] };
}
`;
    entries += 4;
  }
  return source;
}

/** An uplink for it on fPort 10: headers 0x00 0x0a (one field) and 0x01 0x11 (two fields). */
export const LARGE_CODEC_PAYLOAD = Uint8Array.from([0x00, 0x0a, 0x2a, 0x01, 0x11, 0x07, 0xff, 0xf6]);
