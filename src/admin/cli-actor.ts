import { userInfo } from 'node:os';

/**
 * Who the audit trail says ran a CLI command: `cli:<login name>` of the shell it runs in (each person on the operator's
 * team logs in to the database host as themselves), or plain `cli` where the system has no name for the user.
 */
export function cliActor(): string {
  try {
    const { username } = userInfo();
    return username ? `cli:${username}` : 'cli';
  } catch {
    return 'cli';
  }
}
