import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const c = loadConfig({}, '/srv/stadtfunk');
    expect(c).toMatchObject({ databaseUrl: null, mqttUrl: null, httpHost: '127.0.0.1', httpPort: 3000, dataDir: '/srv/stadtfunk/var', logLevel: 'info' });
    expect(c.embeddedDatabasePort).not.toBe(5432);
    expect(c.embeddedMqttPort).not.toBe(1883);
    expect(c.mqtt.protocolVersion).toBe(4);
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

  it('reads a 32-byte master key in hex', () => {
    const c = loadConfig({ MASTER_KEY: '00'.repeat(31) + '01' });
    expect(c.masterKey?.length).toBe(32);
  });
});
