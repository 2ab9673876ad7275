/**
 * The `stadtfunk` command. Each subcommand lives in its own module and is loaded only
 * when it runs: `stadtfunk --help` prints the summaries from the table below and
 * imports none of them (the service alone pulls in Fastify, pg, mqtt.js, QuickJS…),
 * so it answers in well under a second (issue 26). cli/main.test.ts keeps each summary
 * equal to its module's own.
 */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

interface Entry {
  /** Shown by `stadtfunk --help` without loading the module; null: ask the module. */
  summary: string | null;
  load: () => Promise<Command>;
}

const commands: Record<string, Entry> = {
  start: { summary: 'Run the service: database, broker, ingest and HTTP API (embedded database and broker unless DATABASE_URL / MQTT_URL are set).', load: async () => (await import('./start.js')).startCommand },
  migrate: { summary: 'Apply pending database migrations and exit (start does this too).', load: async () => (await import('./migrate.js')).migrateCommand },
  simulate: { summary: 'Simulate a city of sensors: register them, then publish their uplinks over MQTT.', load: async () => (await import('./simulate.js')).simulateCommand },
  bench: { summary: 'Run a benchmark and print its results beside a baseline measured in the same run.', load: async () => (await import('./bench.js')).benchCommand },
  apikey: { summary: 'Create, list or revoke API keys (roles admin, technician, operator).', load: async () => (await import('./apikey.js')).apikeyCommand },
  user: { summary: 'Create and manage user accounts for the web app (the first admin, lockouts, passwords).', load: async () => (await import('./user.js')).userCommand },
  codec: { summary: 'Run a vendor codec against its examples in the sandbox (codec test).', load: async () => (await import('./codec.js')).codecCommand },
  redecode: { summary: 'Re-decode stored uplinks of a device or model after a codec or mapping fix.', load: async () => (await import('./redecode.js')).redecodeCommand },
  models: { summary: "Import device models from The Things Network's device repository (models import).", load: async () => (await import('./models.js')).modelsCommand },
};

/** Subcommands with a second word, e.g. `codec test`, register here as `codec`. Give `summary` to keep --help fast. */
export function registerCommand(name: string, load: () => Promise<Command>, summary: string | null = null): void {
  commands[name] = { summary, load };
}

/** The names and static summaries, for the test that compares them with the modules. */
export function commandTable(): Record<string, Entry> {
  return commands;
}

async function help(): Promise<string> {
  const lines = ['usage: stadtfunk <command> [options]', '', 'commands:'];
  for (const [name, entry] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${entry.summary ?? (await entry.load()).summary}`);
  lines.push('', 'Run `stadtfunk <command> --help` for the options of one command.', 'Configuration comes from environment variables and a .env file: see .env.example.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name === undefined ? 1 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`stadtfunk: unknown command "${name}"\n\n${await help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  return command.run(rest);
}
