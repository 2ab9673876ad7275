/**
 * `.env.example` is the configuration reference (issue 26, item 8): loaded as written it
 * starts the service's configuration, and it lists exactly the variables config.ts
 * (with city-profile.ts) reads. A `.env` file is read at start; the environment wins.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadEnvFile } from './config.js';

const root = import.meta.dirname;
const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');

/** Variables the loader asks for, seen through a recording env, over inputs that take each branch. */
function variablesRead(): Set<string> {
  const seen = new Set<string>();
  for (const base of [{}, parseEnv(example), { MQTT_URL: 'mqtt://127.0.0.1:1883', MASTER_KEY: '00'.repeat(32), INGEST_CONCENTRATOR_PREFIXES: 'eu868' }]) {
    const env = new Proxy(base as Record<string, string | undefined>, { get: (target, name) => (typeof name === 'string' && seen.add(name), target[name as string]) });
    loadConfig(env);
  }
  // And every name the loaders spell out, in case one is read only behind a branch not taken above.
  for (const file of ['config.ts', 'city-profile.ts']) {
    for (const m of fs.readFileSync(path.join(root, file), 'utf8').matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)) seen.add(m[1]!);
  }
  // ENV_FILE chooses the file itself; it cannot be set inside one.
  seen.delete('ENV_FILE');
  return seen;
}

describe('.env.example', () => {
  it('starts the configuration as written', () => {
    expect(() => loadConfig(parseEnv(example), '/srv/stadtfunk')).not.toThrow();
    expect(loadConfig(parseEnv(example)).databaseUrl).toBeNull();
  });

  it('lists every variable the configuration reads, and no other', () => {
    const listed = Object.keys(parseEnv(example)).sort();
    const read = [...variablesRead()].sort();
    expect(read.length).toBeGreaterThan(30);
    expect(listed).toEqual(read);
  });

  it('gives each variable one line of description above it', () => {
    const lines = example.split('\n');
    for (const name of Object.keys(parseEnv(example))) {
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      const above = lines.slice(0, at).reverse().find((l) => !/^[A-Z][A-Z0-9_]*=/.test(l));
      expect(above, name).toMatch(/^# \S/);
    }
  });
});

describe('.env', () => {
  const added: string[] = [];
  afterEach(() => {
    for (const name of added.splice(0)) delete process.env[name];
  });

  it('is read at start, and a variable set in the environment wins', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stadtfunk-env-'));
    fs.writeFileSync(path.join(dir, '.env'), 'STADTFUNK_TEST_A=from-file\nSTADTFUNK_TEST_B=from-file\n');
    added.push('STADTFUNK_TEST_A', 'STADTFUNK_TEST_B');
    process.env.STADTFUNK_TEST_A = 'from-environment';
    expect(loadEnvFile({}, dir)).toBe(path.join(dir, '.env'));
    expect(process.env.STADTFUNK_TEST_A).toBe('from-environment');
    expect(process.env.STADTFUNK_TEST_B).toBe('from-file');
    fs.rmSync(dir, { recursive: true });
  });

  it('is optional; ENV_FILE=off skips it and a named file must exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stadtfunk-env-'));
    expect(loadEnvFile({}, dir)).toBeNull();
    fs.writeFileSync(path.join(dir, '.env'), 'STADTFUNK_TEST_C=from-file\n');
    added.push('STADTFUNK_TEST_C');
    expect(loadEnvFile({ ENV_FILE: 'off' }, dir)).toBeNull();
    expect(process.env.STADTFUNK_TEST_C).toBeUndefined();
    expect(() => loadEnvFile({ ENV_FILE: 'prod.env' }, dir)).toThrow(ConfigError);
    fs.rmSync(dir, { recursive: true });
  });
});
