import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const c = loadConfig({}, '/srv/stadtfunk');
    expect(c).toMatchObject({ databaseUrl: null, mqttUrl: null, httpHost: '127.0.0.1', httpPort: 3000, dataDir: '/srv/stadtfunk/var', logLevel: 'info' });
    expect(c.embeddedDatabasePort).not.toBe(5432);
    expect(c.embeddedMqttPort).not.toBe(1883);
    expect(c.mqtt.protocolVersion).toBe(4);
    expect(c.ingest).toMatchObject({ maxPayloadBytes: 65_536, maxPacketBytes: 16_777_216 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ HTTP_PORT: 'abc' }, 'HTTP_PORT: "abc" is not a whole number (example: HTTP_PORT=3000)'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT: 70000 is outside 0..65535'],
    [{ DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL: protocol localhost: is not one of postgres: postgresql:'],
    [{ MQTT_URL: 'http://broker' }, 'MQTT_URL: protocol http: is not one of'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: "loud" is not one of'],
    [{ MASTER_KEY: 'abcd' }, 'MASTER_KEY: must be 32 bytes'],
    [{ MQTT_SHARED_GROUP: 'g' }, 'MQTT_SHARED_GROUP: needs an MQTT 5 broker'],
    [{ PUBLIC_URL: 'daten.stadt.example' }, 'PUBLIC_URL: "daten.stadt.example" is not a URL'],
    [{ TRUSTED_PROXIES: '10.0.0.1,proxy.example' }, 'TRUSTED_PROXIES: "proxy.example" is not an IP address, a CIDR range or one of loopback'],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES: "10.0.0.0/33" is not'],
    [{ INGEST_MAX_PACKET_BYTES: '268435461' }, 'INGEST_MAX_PACKET_BYTES: 268435461 is outside 4096..268435460'],
  ])('rejects %o with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('example:');
    expect((error as Error).message).not.toContain('\n');
  });

  it('never repeats a database password in its error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:s3cret@h/db' })).toThrow(/DATABASE_URL/);
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:s3cret@h/db' });
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cret');
    }
  });

  it('keeps the public base URL without its trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://daten.stadt.example/sensoren/' }).api.publicUrl).toBe('https://daten.stadt.example/sensoren');
    expect(loadConfig({}).api.publicUrl).toBeNull();
  });

  it('trusts no proxy unless TRUSTED_PROXIES names it', () => {
    expect(loadConfig({}).api.trustedProxies).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.5, 192.168.10.0/24,fd00::/8 ,loopback' }).api.trustedProxies).toEqual(['10.0.0.5', '192.168.10.0/24', 'fd00::/8', 'loopback']);
  });

  it('reads a 32-byte master key in hex', () => {
    const c = loadConfig({ MASTER_KEY: '00'.repeat(31) + '01' });
    expect(c.masterKey?.length).toBe(32);
  });
});

describe('city profile', () => {
  it('is the demonstration profile when no CITY_* variable is set', () => {
    const c = loadConfig({}).city;
    expect(c.isDefault).toBe(true);
    expect(c.regionalKey).toMatch(/^\d{12}$/);
    expect(c.attribution).toBe(c.publisher);
  });

  it('centres the map on the middle of a city area set without a centre', () => {
    expect(loadConfig({ CITY_AREA: '6.6,51.3,6.8,51.5' }).city.mapCenter).toEqual({ latitude: 51.4, longitude: expect.closeTo(6.7, 9) });
  });

  it('takes every field from its variable', () => {
    const c = loadConfig({
      CITY_NAME: 'Duisburg', CITY_PUBLISHER: 'Stadt Duisburg', CITY_ATTRIBUTION: 'Stadt Duisburg – Open Data', CITY_CONTACT_EMAIL: 'opendata@stadt-duisburg.de',
      CITY_ARS: '051120000000', CITY_DATEX_NATIONAL_ID: 'DE-MDM-Duisburg', CITY_MAP_CENTER: '51.4344,6.7623', CITY_MAP_ZOOM: '12',
      CITY_AREA: '6.62,51.33,6.83,51.56', CITY_TILE_URL: 'https://tiles.example/{z}/{x}/{y}.png', CITY_TILE_ATTRIBUTION: '© Stadt Duisburg',
    }).city;
    expect(c).toMatchObject({
      name: 'Duisburg', publisher: 'Stadt Duisburg', attribution: 'Stadt Duisburg – Open Data', contactEmail: 'opendata@stadt-duisburg.de',
      regionalKey: '051120000000', datexNationalId: 'DE-MDM-Duisburg', mapCenter: { latitude: 51.4344, longitude: 6.7623 }, mapZoom: 12,
      area: { minLongitude: 6.62, minLatitude: 51.33, maxLongitude: 6.83, maxLatitude: 51.56 }, tileUrl: 'https://tiles.example/{z}/{x}/{y}.png', isDefault: false,
    });
  });

  it.each([
    [{ CITY_CONTACT_EMAIL: 'nobody' }, 'CITY_CONTACT_EMAIL: "nobody" is not an e-mail address'],
    [{ CITY_ARS: '05111' }, 'CITY_ARS: "05111" is not a 12-digit'],
    [{ CITY_MAP_CENTER: '6.77' }, 'CITY_MAP_CENTER: "6.77" is not 2 comma-separated numbers'],
    [{ CITY_MAP_CENTER: '6.7735,51.2277' }, 'CITY_MAP_CENTER: 6.7735,51.2277 must be latitude,longitude inside CITY_AREA'],
    [{ CITY_AREA: '6.9,51.1,6.7,51.3' }, 'CITY_AREA: must be minLon,minLat,maxLon,maxLat'],
    [{ CITY_TILE_URL: 'https://tiles.example/tile.png' }, 'CITY_TILE_URL: must contain {z}, {x} and {y}'],
    [{ CITY_TILE_URL: 'ftp://tiles/{z}/{x}/{y}' }, 'CITY_TILE_URL: protocol ftp:'],
    [{ CITY_DATEX_NATIONAL_ID: 'DE MDM' }, 'CITY_DATEX_NATIONAL_ID:'],
    [{ CITY_MAP_ZOOM: '25' }, 'CITY_MAP_ZOOM:'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
