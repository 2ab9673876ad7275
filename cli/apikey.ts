import type { Command } from './main.js';
import { parseArgs, stringOption, UsageError } from './args.js';
import { configOrExit } from './shared.js';
import { commandDatabase } from './targets.js';
import { createApiKey, ROLES, type Role } from '../api/auth.js';
import { revokeApiKey, selectApiKeys } from '../storage/index.js';

const USAGE = `usage: stadtfunk apikey create --role admin|technician|operator --name NAME
       stadtfunk apikey list
       stadtfunk apikey revoke ID

create prints the new key once; only its hash is stored.`;

export const apikeyCommand: Command = {
  summary: 'Create, list or revoke API keys (roles admin, technician, operator).',
  usage: USAGE,
  async run(argv) {
    const config = configOrExit();
    if (!config) return 1;
    let args;
    try {
      args = parseArgs(argv, { role: 'value', name: 'value' });
    } catch (error) {
      console.error(`stadtfunk apikey: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    const [action, id] = args.positional;
    const db = await commandDatabase(config);
    try {
      if (action === 'create') {
        const role = stringOption(args, 'role');
        const name = stringOption(args, 'name');
        if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        if (!name) throw new UsageError('--name is required (who or what uses the key)');
        const key = await createApiKey(db.pool, name, role as Role);
        console.log(`created API key ${key.id} (${role}, ${name}). It is shown only now:\n${key.key}`);
        return 0;
      }
      if (action === 'list') {
        for (const k of await selectApiKeys(db.pool)) console.log(`${k.id}  ${k.role.padEnd(10)}  ${k.name}  created ${k.createdAt.toISOString()}${k.revokedAt ? `  REVOKED ${k.revokedAt.toISOString()}` : ''}`);
        return 0;
      }
      if (action === 'revoke') {
        if (!id) throw new UsageError('name the key id to revoke');
        if (!(await revokeApiKey(db.pool, id))) throw new UsageError(`no active key ${id}`);
        console.log(`revoked ${id}`);
        return 0;
      }
      throw new UsageError(USAGE);
    } catch (error) {
      console.error(`stadtfunk apikey: ${(error as Error).message}`);
      return error instanceof UsageError ? 2 : 1;
    } finally {
      await db.close();
    }
  },
};
