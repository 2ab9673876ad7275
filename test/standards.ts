/**
 * The official schemas and shapes the open-data formats are checked against, read from
 * ../shared/standards (beside the repository, as CI lays it out; see its README). They
 * are never copied into the project: where the folder is missing, `standardsDir` is null
 * and the tests that need it skip with a message.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * ../shared/standards from the repository root; a git worktree one level deeper
 * (worktrees/<name>) finds it one more level up; STADTFUNK_STANDARDS_DIR names it directly.
 */
function locate(): string | null {
  const candidates = [process.env.STADTFUNK_STANDARDS_DIR, path.join(root, '../shared/standards'), path.join(root, '../../shared/standards')];
  return candidates.find((c): c is string => c !== undefined && existsSync(path.join(c, 'README.md'))) ?? null;
}

export const standardsDir = locate();
export const MISSING_STANDARDS = `../shared/standards is missing beside ${root}: schema and shape checks skipped`;

export const DATEX2_V2_SCHEMA = 'datex2/v2.3/DATEXIISchema_2_2_3.xsd';
export const DATEX2_V3_SCHEMA = 'datex2/v3.7/DATEXII_3_D2Payload.xsd';

/**
 * `xmllint --noout --nonet --schema` (Debian libxml2-utils; .ci/run installs it) over
 * the document on stdin: valid, or the validator's own messages.
 */
export function xmllintSchema(schema: string, xml: string): Promise<{ valid: boolean; messages: string }> {
  if (!standardsDir) throw new Error(MISSING_STANDARDS);
  const child = spawn('xmllint', ['--noout', '--nonet', '--schema', path.join(standardsDir, schema), '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let messages = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { messages += chunk; });
  child.stdin.end(xml);
  return new Promise((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`xmllint could not run (apt-get install libxml2-utils): ${error.message}`)));
    child.on('close', (code) => {
      // 0 valid, 3 or 4 invalid (xmllint's exit codes); anything else is the tool failing.
      if (code === 0) resolve({ valid: true, messages });
      else if (code === 3 || code === 4 || code === 1) resolve({ valid: false, messages });
      else reject(new Error(`xmllint exited with ${code}: ${messages}`));
    });
  });
}

/** The string value of an XPath 1.0 expression over the document, by xmllint (a real XML parser: entities resolved). */
export function xpathString(xml: string, expression: string): Promise<string> {
  const child = spawn('xmllint', ['--xpath', `string(${expression})`, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  child.stdin.end(xml);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // An empty string result makes xmllint exit 10 ("XPath result is empty").
    child.on('close', (code) => (code === 0 || code === 10 ? resolve(out.replace(/\n$/, '')) : reject(new Error(`xmllint --xpath exited with ${code}: ${err}`))));
  });
}
