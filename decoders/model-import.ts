/**
 * Device models from The Things Network's device repository (device-repository.ts):
 * each codec's examples go through the exact gate in a codec worker; a model whose
 * examples fail is refused, one without examples is imported unverified. The report
 * says per model which fields of its examples become which metrics and which are left,
 * and why. Imported models carry no mapping of their own: the built-in mappings for
 * their category apply (and the proposal shows what they do) until a technician gives
 * one (PUT /api/v1/device-models/:id).
 */
import { proposeForExamples, type LeftField } from './builtin-mapping.js';
import { checkExamples, runCodecExamples, type CodecExample, type RunCodec } from './codec-examples.js';
import type { RepositoryModel } from './device-repository.js';
import type { FieldMapping, ModelCategory } from './types.js';

export interface ImportedModel {
  id: string;
  name: string;
  codecScript: string;
  examples: unknown[];
  category: ModelCategory | null;
  mappingNotes: LeftField[];
  source: Record<string, unknown>;
}

export interface ImportReportEntry {
  id: string;
  name: string;
  source: { vendor: string; device: string; codec: string; codecFile: string };
  status: 'imported' | 'refused' | 'checked';
  verified: boolean;
  examples: { passed: number; failed: number };
  problem: string | null;
  category: ModelCategory | null;
  categoryFrom: 'device' | 'examples' | null;
  mapped: FieldMapping[];
  left: LeftField[];
}

export async function importRepositoryModels(models: RepositoryModel[], options: { run: RunCodec; save: ((m: ImportedModel) => Promise<void>) | null }): Promise<ImportReportEntry[]> {
  const report: ImportReportEntry[] = [];
  for (const m of models) {
    const entry: ImportReportEntry = {
      id: m.id, name: m.name, source: { vendor: m.vendor, device: m.device, codec: m.codec, codecFile: m.codecFile },
      status: 'refused', verified: false, examples: { passed: 0, failed: 0 }, problem: null, category: m.category, categoryFrom: m.category ? 'device' : null, mapped: [], left: [],
    };
    report.push(entry);
    let examples: CodecExample[];
    try {
      examples = checkExamples(m.examples);
    } catch (error) {
      entry.problem = `examples: ${(error as Error).message}`;
      continue;
    }
    const results = await runCodecExamples(options.run, m.script, examples);
    const failed = results.filter((r) => !r.passed);
    entry.examples = { passed: results.length - failed.length, failed: failed.length };
    if (failed.length > 0) {
      entry.problem = `example "${failed[0]!.description}": ${failed[0]!.problem}`;
      continue;
    }
    entry.verified = examples.length > 0;
    const datas = examples.map((e) => e.output.data).filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object' && !Array.isArray(d));
    const proposal = proposeForExamples(datas, m.category);
    entry.category = proposal.category;
    if (!m.category && proposal.category) entry.categoryFrom = 'examples';
    entry.mapped = proposal.mapping;
    entry.left = proposal.left;
    if (!options.save) {
      entry.status = 'checked';
      continue;
    }
    await options.save({
      id: m.id, name: m.name, codecScript: m.script, examples: m.examples, category: proposal.category, mappingNotes: proposal.left,
      source: { repository: 'TheThingsNetwork/lorawan-devices', vendor: m.vendor, device: m.device, codec: m.codec, codecFile: m.codecFile },
    });
    entry.status = 'imported';
  }
  return report;
}

/** The report as text: one block per model. */
export function formatImportReport(report: ImportReportEntry[]): string {
  const lines: string[] = [];
  for (const e of report) {
    const state = e.status === 'refused' ? 'REFUSED' : e.verified ? e.status : `${e.status}, unverified (no examples)`;
    lines.push(`${e.id}  ${e.name}  [${state}]  category ${e.category ?? 'unknown'}${e.categoryFrom ? ` (from ${e.categoryFrom})` : ''}  examples ${e.examples.passed} passed, ${e.examples.failed} failed`);
    if (e.problem) lines.push(`    ${e.problem}`);
    for (const m of e.mapped) lines.push(`    ${m.path} → ${m.metric}${m.channel ? ` [${m.channel}]` : ''}${m.unit ? ` (from ${m.unit})` : ''}`);
    for (const l of e.left) lines.push(`    ${l.path} left: ${l.reason}`);
  }
  const imported = report.filter((e) => e.status !== 'refused');
  lines.push(`${imported.length} of ${report.length} models ${report.some((e) => e.status === 'checked') ? 'pass' : 'imported'}, ${report.length - imported.length} refused; ${imported.reduce((n, e) => n + e.mapped.length, 0)} fields mapped, ${imported.reduce((n, e) => n + e.left.length, 0)} left`);
  return lines.join('\n');
}
