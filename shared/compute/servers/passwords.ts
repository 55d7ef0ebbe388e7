// Azure's rules for the VM admin account (azure-facts.md: Virtual machines), checked before any Azure
// call so a bad adminPass is Nova's 400 and nothing is created; and Nova's generated password
// (nova/utils.py generate_password: 12 characters from digits, upper and lower case without look-alikes),
// which always satisfies Azure's rules.
import { randomInt } from 'node:crypto';
import { badRequest } from '../../http/errors';

export type OsType = 'linux' | 'windows';

const REFUSED_PASSWORDS = new Set(['abc@123', 'P@$$w0rd', 'P@ssw0rd', 'P@ssword123', 'Pa$$word', 'pass@word1', 'Password!', 'Password1', 'Password22', 'iloveyou!'].map((p) => p.toLowerCase()));

const RESERVED_USERNAMES = new Set([
  'administrator',
  'admin',
  'user',
  'user1',
  'test',
  'user2',
  'test1',
  'user3',
  'admin1',
  '1',
  '123',
  'a',
  'actuser',
  'adm',
  'admin2',
  'aspnet',
  'backup',
  'console',
  'david',
  'guest',
  'john',
  'owner',
  'root',
  'server',
  'sql',
  'support',
  'support_388945a0',
  'sys',
  'test2',
  'test3',
  'user4',
  'user5',
]);

export const passwordLength = (os: OsType) => (os === 'linux' ? { min: 6, max: 72 } : { min: 8, max: 123 });

/** Why `password` is not acceptable to Azure for this OS, or undefined. */
export function passwordProblem(password: string, os: OsType): string | undefined {
  const { min, max } = passwordLength(os);
  const rule = `must be ${min} to ${max} characters long for a ${os === 'linux' ? 'Linux' : 'Windows'} image and contain 3 of: a lowercase letter, an uppercase letter, a digit, a special character`;
  if (password.length < min || password.length > max) return rule;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(password)) return 'must not contain control characters';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return rule;
  if (REFUSED_PASSWORDS.has(password.toLowerCase())) return 'is a commonly used password that Azure refuses';
  return undefined;
}

/** 400 before any Azure call; the message never echoes the password. */
export function checkAdminPass(password: string, os: OsType): void {
  const p = passwordProblem(password, os);
  if (p) throw badRequest(`Invalid adminPass: the password ${p}.`);
}

export function usernameProblem(name: string, os: OsType): string | undefined {
  if (RESERVED_USERNAMES.has(name.toLowerCase())) return `${name} is a reserved name`;
  if (os === 'linux') {
    if (name.length < 1 || name.length > 64) return 'must be 1 to 64 characters long';
    if (!/^[a-z_][a-z0-9_.-]*$/i.test(name)) return 'may only hold letters, digits, "_", "." and "-", starting with a letter or "_"';
  } else {
    if (name.length < 1 || name.length > 20) return 'must be 1 to 20 characters long';
    if (name.endsWith('.')) return 'must not end with "."';
    if (/["/\\[\]:;|=,+*?<>@]/.test(name)) return 'must not contain any of /"[]:|<>+=;,?*@';
  }
  return undefined;
}

/** The admin account name: the image's os_admin_user property (Nova's image property) or 'azureuser'. */
export function adminUsername(imageProperties: Record<string, string>, os: OsType): string {
  const name = imageProperties.os_admin_user?.trim() || 'azureuser';
  const p = usernameProblem(name, os);
  if (p) throw badRequest(`The image's os_admin_user "${name}" cannot be used on Azure: it ${p}.`);
  return name;
}

// Nova's default symbol groups: no 0/O, 1/l/I look-alikes.
const GROUPS = ['23456789', 'ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'];

/** A random password of `length` (>= 3) with one character of each group, then shuffled. */
export function generatePassword(length = 12): string {
  const all = GROUPS.join('');
  const chars = GROUPS.map((g) => g[randomInt(g.length)]);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
