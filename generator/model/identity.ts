// The site's directory (spec.identity.ldap) as the services that read it need it.
import type { IdentitySpec } from '../spec/schema.ts';

/** Where the directory is and how to reach it: its host, port (default 636 for ldaps, 389 for ldap) and whether TLS starts on connect. */
export function ldapServer(ldap: NonNullable<IdentitySpec['ldap']>): { host: string; port: number; ssl: boolean } {
  const url = /^(ldaps?):\/\/([^:/]+)(?::([0-9]+))?$/.exec(ldap.url)!;
  const ssl = url[1] === 'ldaps';
  return { host: url[2]!, port: Number(url[3] ?? (ssl ? 636 : 389)), ssl };
}
