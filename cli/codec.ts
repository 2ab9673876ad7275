import type { Command } from './main.js';
import { CODEC_TEST_USAGE, codecTestCommand } from '../decoders/codec-test-command.js';

export const codecCommand: Command = {
  summary: 'Run a vendor codec against its examples in the sandbox (codec test).',
  usage: CODEC_TEST_USAGE,
  run: (argv) => codecTestCommand(argv),
};
