// A vendor codec in the shape real ones take (LoRa Alliance TS013 decodeUplink):
// ES2015+ syntax, a helper added to Object.prototype, and a CommonJS export guarded by
// `typeof module`. Payload: u16 pm2.5 ×0.1 µg/m³, u16 pm10 ×0.1, i16 temperature ×0.01 °C,
// u8 humidity %, u16 pressure Pa/10 (i.e. pressure in Pa divided by 10), u8 status (0 ok, 1 "NoSensor").
Object.defineProperty(Object.prototype, 'pick', {
  value(...keys) { return keys.reduce((out, k) => ({ ...out, [k]: this[k] }), {}); },
  enumerable: false,
  configurable: true,
});

const u16 = (b, i) => (b[i] << 8) | b[i + 1];
const i16 = (b, i) => { const v = u16(b, i); return v > 0x7fff ? v - 0x10000 : v; };

function decodeUplink(input) {
  const { bytes, fPort } = input;
  if (fPort !== 2) return { errors: [`unexpected fPort ${fPort}`] };
  if (bytes.length < 10) return { errors: ['payload too short'] };
  const status = bytes[9];
  const data = {
    air: { pm25: u16(bytes, 0) / 10, pm10: u16(bytes, 2) / 10 },
    temp: { value: i16(bytes, 4) / 100, unit: 'Cel' },
    humidity: bytes[6],
    pressure: u16(bytes, 7) * 10,
    status: status === 1 ? 'NoSensor' : 'ok',
  };
  return { data: data.pick('air', 'temp', 'humidity', 'pressure', 'status'), warnings: status === 1 ? ['sensor missing'] : [] };
}

if (typeof module !== 'undefined') module.exports = { decodeUplink };
