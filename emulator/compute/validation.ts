/** Azure's rules for admin usernames, passwords, SSH keys and customData (see azure-facts.md). */
import { ArmError } from '../arm/errors';

const COMMON_PASSWORDS = new Set(['abc@123', 'P@$$w0rd', 'P@ssw0rd', 'P@ssword123', 'Pa$$word', 'pass@word1', 'Password!', 'Password1', 'Password22', 'iloveyou!'].map((p) => p.toLowerCase()));

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

/** Returns why a password breaks the rules, or undefined when it is acceptable. */
export function passwordProblem(password: string, osType: 'Linux' | 'Windows'): string | undefined {
  const [min, max] = osType === 'Linux' ? [6, 72] : [8, 123];
  const rules =
    `The supplied password must be between ${min}-${max} characters long and must satisfy at least 3 of password complexity requirements from the following:\r\n` +
    '1) Contains an uppercase character\r\n2) Contains a lowercase character\r\n3) Contains a numeric digit\r\n4) Contains a special character\r\n5) Control characters are not allowed';
  if (password.length < min || password.length > max) return rules;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(password)) return rules;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(password)).length;
  if (classes < 3) return rules;
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'The supplied password is not allowed. Please choose a password that is not commonly used.';
  return undefined;
}

export function checkPassword(password: unknown, osType: 'Linux' | 'Windows', target = 'adminPassword'): void {
  if (typeof password !== 'string') throw new ArmError(400, 'InvalidParameter', `The value provided for ${target} is not a string.`, target);
  const problem = passwordProblem(password, osType);
  if (problem) throw new ArmError(400, 'InvalidParameter', problem, target);
}

export function usernameProblem(username: string, osType: 'Linux' | 'Windows'): string | undefined {
  if (RESERVED_USERNAMES.has(username.toLowerCase())) return 'The Admin Username specified is not allowed.';
  if (osType === 'Linux') {
    if (username.length < 1 || username.length > 64) return 'Linux admin user name cannot be longer than 64 characters.';
    if (!/^[a-z_][a-z0-9_.-]*$/i.test(username)) return 'The admin user name contains characters that are not allowed.';
  } else {
    if (username.length > 20) return 'Windows admin user name cannot be more than 20 characters long.';
    if (username.endsWith('.')) return 'Windows admin user name cannot end with a "."';
    if (/["/\\[\]:;|=,+*?<>@]/.test(username)) return 'Windows admin user name cannot contain special characters /"[]:|<>+=;,?*@';
  }
  return undefined;
}

export function checkUsername(username: unknown, osType: 'Linux' | 'Windows', target = 'adminUsername'): string {
  if (typeof username !== 'string' || username.length === 0) {
    throw new ArmError(400, 'InvalidParameter', "Required parameter 'adminUsername' is missing (null).", target);
  }
  const problem = usernameProblem(username, osType);
  if (problem) throw new ArmError(400, 'InvalidParameter', problem, target);
  return username;
}

/** OpenSSH public key format check (type + base64 blob whose embedded type matches). */
export function sshKeyProblem(key: string): string | undefined {
  const parts = key.trim().split(/\s+/);
  if (parts.length < 2) return 'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.';
  const [type, b64] = parts;
  if (!/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521))$/.test(type)) return 'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.';
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4 || blob.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
    return 'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.';
  }
  const len = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + len).toString('ascii') !== type) return 'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.';
  return undefined;
}

export function checkCustomData(customData: unknown, target = 'customData'): void {
  if (customData === undefined || customData === null) return;
  if (typeof customData !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(customData) || customData.length % 4 !== 0) {
    throw new ArmError(400, 'InvalidParameter', 'Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.', target);
  }
  if (customData.length > 87380) {
    throw new ArmError(400, 'InvalidParameter', 'Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.', target);
  }
}

export function checkComputerName(name: string, osType: 'Linux' | 'Windows'): void {
  const max = osType === 'Windows' ? 15 : 64;
  if (name.length > max || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(name) || (osType === 'Windows' && /^\d+$/.test(name))) {
    throw new ArmError(
      400,
      'InvalidParameter',
      osType === 'Windows'
        ? 'Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . \' " , < > / ?.'
        : 'Linux host name cannot exceed 64 characters in length or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : \' " , < > / ?.',
      'computerName',
    );
  }
}
