import { PermissionFlagsBits, type APIOverwrite, type APIRole } from '@discordjs/core';

/** What the permission calculation needs to know about a channel, the guild's roles and a member. */
export interface PermissionInputs {
  readonly guildId: string;
  readonly userId: string;
  readonly memberRoles: readonly string[];
  readonly roles: readonly Pick<APIRole, 'id' | 'permissions'>[];
  readonly overwrites: readonly Pick<APIOverwrite, 'id' | 'type' | 'allow' | 'deny'>[];
  /** The guild owner has every permission. */
  readonly isOwner?: boolean;
}

const ALL = (1n << 64n) - 1n;

/**
 * A member's permissions in a channel, computed the way Discord documents it: @everyone plus the member's
 * roles, Administrator grants all, then the @everyone overwrite, the role overwrites together, and the
 * member overwrite, each deny before allow.
 */
export function channelPermissions(input: PermissionInputs): bigint {
  if (input.isOwner) return ALL;
  const roleById = new Map(input.roles.map((r) => [r.id, BigInt(r.permissions)]));
  let base = roleById.get(input.guildId) ?? 0n;
  for (const id of input.memberRoles) base |= roleById.get(id) ?? 0n;
  if ((base & PermissionFlagsBits.Administrator) !== 0n) return ALL;

  let permissions = base;
  const everyone = input.overwrites.find((o) => o.id === input.guildId);
  if (everyone) permissions = (permissions & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const o of input.overwrites) {
    if (o.type === 0 && o.id !== input.guildId && input.memberRoles.includes(o.id)) {
      allow |= BigInt(o.allow);
      deny |= BigInt(o.deny);
    }
  }
  permissions = (permissions & ~deny) | allow;
  const member = input.overwrites.find((o) => o.type === 1 && o.id === input.userId);
  if (member) permissions = (permissions & ~BigInt(member.deny)) | BigInt(member.allow);
  // Without View Channel nothing else in the channel applies.
  if ((permissions & PermissionFlagsBits.ViewChannel) === 0n) return 0n;
  return permissions;
}

/** The names of the permissions in `needed` that `have` lacks, in the order given. */
export function missingPermissions(have: bigint, needed: readonly (readonly [string, bigint])[]): string[] {
  return needed.filter(([, bit]) => (have & bit) === 0n).map(([name]) => name);
}

/** What the bot needs to listen in a voice channel. */
export const VOICE_NEEDS = [
  ['View Channel', PermissionFlagsBits.ViewChannel],
  ['Connect', PermissionFlagsBits.Connect],
] as const;

/** What the bot needs to post the transcript in a text channel. */
export const POST_NEEDS = [
  ['View Channel', PermissionFlagsBits.ViewChannel],
  ['Send Messages', PermissionFlagsBits.SendMessages],
  ['Attach Files', PermissionFlagsBits.AttachFiles],
] as const;
