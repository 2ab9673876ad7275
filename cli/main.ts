/**
 * The `stadtfunk` command. Each subcommand lives in its own module and is loaded
 * only when used, so `stadtfunk --help` stays fast.
 */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).startCommand,
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  apikey: async () => (await import('./apikey.js')).apikeyCommand,
  user: async () => (await import('./user.js')).userCommand,
  codec: async () => (await import('./codec.js')).codecCommand,
  redecode: async () => (await import('./redecode.js')).redecodeCommand,
  models: async () => (await import('./models.js')).modelsCommand,
};

/** Subcommands with a second word, e.g. `codec test`, register here as `codec`. */
export function registerCommand(name: string, load: () => Promise<Command>): void {
  commands[name] = load;
}

async function help(): Promise<string> {
  const lines = ['usage: stadtfunk <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  lines.push('', 'Run `stadtfunk <command> --help` for the options of one command.', 'Configuration comes from environment variables: see README.md and .env.example.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name === undefined ? 1 : 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`stadtfunk: unknown command "${name}"\n\n${await help()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  return command.run(rest);
}
