/**
 * `stadtfunk user`: the first admin (before anyone can sign in to create others) and the
 * way back in when every admin is locked out. The password is never a command-line
 * option (shell histories, `ps`): it is asked twice on a terminal without echo, or read
 * as the first line of standard input with --password-stdin.
 */
import type { Command } from './main.js';
import { parseArgs, stringOption, UsageError } from './args.js';
import { configOrExit } from './shared.js';
import { commandDatabase } from './targets.js';
import { changeUser, createUser } from '../api/accounts.js';
import { ROLES, type Role } from '../api/auth.js';
import { HttpError } from '../api/errors.js';
import { normaliseUsername } from '../api/sign-in.js';
import { deleteUserSessions, selectUserByUsername, selectUsers, unlockUser } from '../storage/index.js';

const USAGE = `usage: stadtfunk user create --username NAME --role admin|technician|operator [--name "DISPLAY NAME"] [--password-stdin]
       stadtfunk user list
       stadtfunk user password USERNAME [--password-stdin]   set a new password (ends the user's sessions)
       stadtfunk user disable USERNAME                      no more sign-ins; ends the user's sessions
       stadtfunk user enable USERNAME
       stadtfunk user unlock USERNAME                       lift a lockout after failed sign-ins
       stadtfunk user sign-out USERNAME                     end all of the user's sessions

The password is asked twice on a terminal (not shown), or read from the first line of
standard input with --password-stdin. At least 12 characters.`;

export const userCommand: Command = {
  summary: 'Create and manage user accounts for the web app (the first admin, lockouts, passwords).',
  usage: USAGE,
  async run(argv) {
    const config = configOrExit();
    if (!config) return 1;
    let args;
    try {
      args = parseArgs(argv, { username: 'value', role: 'value', name: 'value', 'password-stdin': 'flag' });
    } catch (error) {
      console.error(`stadtfunk user: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    const [action, who] = args.positional;
    const fromStdin = args.options.has('password-stdin');
    if (!action || !['create', 'list', 'password', 'disable', 'enable', 'unlock', 'sign-out'].includes(action)) {
      console.error(USAGE);
      return 2;
    }
    // Ask before opening the database: starting an embedded PostgreSQL takes seconds.
    let password: string | null = null;
    try {
      if (action === 'create') {
        const role = stringOption(args, 'role');
        if (!stringOption(args, 'username')) throw new UsageError('--username is required');
        if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      } else if (action !== 'list' && !who) {
        throw new UsageError(`name the user: stadtfunk user ${action} USERNAME`);
      }
      if (action === 'create' || action === 'password') password = fromStdin ? await firstLineOfStdin() : await askTwice();
    } catch (error) {
      console.error(`stadtfunk user: ${(error as Error).message}`);
      return 2;
    }
    const db = await commandDatabase(config);
    try {
      if (action === 'create') {
        const user = await createUser(db.pool, { username: stringOption(args, 'username')!, displayName: stringOption(args, 'name') ?? null, role: stringOption(args, 'role') as Role, password: password! });
        console.log(`created user ${user.username} (${user.role}, id ${user.id}); sign in at /app/#/signin`);
        return 0;
      }
      if (action === 'list') {
        for (const u of await selectUsers(db.pool)) {
          const flags = [u.oidcSubject ? 'oidc' : 'local', u.disabledAt ? 'DISABLED' : null, u.lockedUntil && u.lockedUntil > new Date() ? `LOCKED until ${u.lockedUntil.toISOString()}` : null].filter(Boolean).join(', ');
          console.log(`${u.id}  ${(u.username ?? u.oidcUsername ?? '').padEnd(24)}  ${u.role.padEnd(10)}  ${u.displayName}  (${flags})`);
        }
        return 0;
      }
      const user = await selectUserByUsername(db.pool, normaliseUsername(who!));
      if (!user) throw new UsageError(`no local user ${who}`);
      if (action === 'password') {
        await changeUser(db.pool, user.id, { password: password! });
        await deleteUserSessions(db.pool, user.id);
        console.log(`new password set for ${user.username}; their sessions have ended`);
      } else if (action === 'disable' || action === 'enable') {
        await changeUser(db.pool, user.id, { disabled: action === 'disable' });
        if (action === 'disable') await deleteUserSessions(db.pool, user.id);
        console.log(`${action}d ${user.username}`);
      } else if (action === 'unlock') {
        await unlockUser(db.pool, user.id);
        console.log(`unlocked ${user.username}`);
      } else {
        console.log(`ended ${await deleteUserSessions(db.pool, user.id)} session(s) of ${user.username}`);
      }
      return 0;
    } catch (error) {
      console.error(`stadtfunk user: ${(error as Error).message}`);
      return error instanceof UsageError || error instanceof HttpError ? 2 : 1;
    } finally {
      await db.close();
    }
  },
};

async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new UsageError('--password-stdin: standard input is empty');
  return line;
}

async function askTwice(): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password: use --password-stdin');
  const first = await askHidden('password: ');
  const second = await askHidden('again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

/** Reads a line from the terminal in raw mode, echoing nothing. */
function askHidden(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const finish = (error: Error | null): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || ch === '\u0004') return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
