/**
 * The README is a front door (issue 26): short, nothing that a user's clone lacks
 * (no ../shared), every file it links and every k6 scenario it names exists, and every
 * command of its table is a command of the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandTable } from './cli/main.js';

const root = import.meta.dirname;
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README.md', () => {
  it('stays at about 200 lines and points to nothing outside the repository', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(210);
    expect(readme).not.toContain('../shared');
  });

  it('links only files that exist', () => {
    const links = [...readme.matchAll(/\]\(((?!https?:)[^)#]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(fs.existsSync(path.join(root, link)), link).toBe(true);
    for (const m of readme.matchAll(/bench\/k6\/[a-z-]+\.js/g)) expect(fs.existsSync(path.join(root, m[0])), m[0]).toBe(true);
  });

  it('lists the commands the CLI has', () => {
    const listed = [...readme.matchAll(/^\| `([a-z]+)[ `]/gm)].map((m) => m[1]!).filter((c) => !/^(bench|[A-Z])/.test(c) || c === 'bench');
    const known = Object.keys(commandTable());
    for (const command of ['start', 'migrate', 'apikey', 'simulate', 'codec', 'redecode', 'bench']) {
      expect(listed, command).toContain(command);
      expect(known, command).toContain(command);
    }
  });
});
