import { PermissionFlagsBits as P } from '@discordjs/core';
import { describe, expect, it } from 'vitest';
import { channelPermissions, missingPermissions, POST_NEEDS } from '../../src/commands/channelPermissions.js';

const s = (b: bigint) => String(b);
const base = { guildId: 'g', userId: 'u', memberRoles: ['r'], roles: [{ id: 'g', permissions: s(P.ViewChannel | P.SendMessages) }, { id: 'r', permissions: s(P.AttachFiles) }] };

describe('channelPermissions', () => {
  it('adds @everyone and member roles, then applies overwrites everyone → roles → member', () => {
    expect(channelPermissions({ ...base, overwrites: [] })).toBe(P.ViewChannel | P.SendMessages | P.AttachFiles);
    const denyEveryone = { id: 'g', type: 0 as const, allow: '0', deny: s(P.SendMessages) };
    expect(channelPermissions({ ...base, overwrites: [denyEveryone] }) & P.SendMessages).toBe(0n);
    const roleAllows = { id: 'r', type: 0 as const, allow: s(P.SendMessages), deny: '0' };
    expect(channelPermissions({ ...base, overwrites: [denyEveryone, roleAllows] }) & P.SendMessages).toBe(P.SendMessages);
    const memberDenies = { id: 'u', type: 1 as const, allow: '0', deny: s(P.SendMessages | P.AttachFiles) };
    expect(missingPermissions(channelPermissions({ ...base, overwrites: [denyEveryone, roleAllows, memberDenies] }), POST_NEEDS)).toEqual([
      'Send Messages',
      'Attach Files',
    ]);
  });

  it('gives nothing without View Channel, and everything to Administrator or the owner', () => {
    const hide = { id: 'g', type: 0 as const, allow: '0', deny: s(P.ViewChannel) };
    expect(channelPermissions({ ...base, overwrites: [hide] })).toBe(0n);
    const admin = { ...base, roles: [...base.roles, { id: 'a', permissions: s(P.Administrator) }], memberRoles: ['a'] };
    expect(channelPermissions({ ...admin, overwrites: [hide] }) & P.Connect).toBe(P.Connect);
    expect(channelPermissions({ ...base, overwrites: [hide], isOwner: true }) & P.ViewChannel).toBe(P.ViewChannel);
  });
});
