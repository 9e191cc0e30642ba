import type { APIGuildMember, APIUser } from '@discordjs/core';
import type { Logger } from '../util/logger.js';

/** Fetches a guild member over REST (the fallback when no payload told us a name). */
export type FetchMember = (guildId: string, userId: string) => Promise<Pick<APIGuildMember, 'nick' | 'user'> & { avatar?: string | null }>;

/** What payloads tell about a member: enough for the name and the avatar. */
export type MemberLike = { nick?: string | null; avatar?: string | null; user?: Pick<APIUser, 'global_name' | 'username'> & { id?: string; avatar?: string | null } };

/** The avatar people see: the guild avatar, else the user's, else Discord's default one for the id. */
export function avatarUrlOf(guildId: string, userId: string, member: MemberLike): string {
  if (member.avatar) return `https://cdn.discordapp.com/guilds/${guildId}/users/${userId}/avatars/${member.avatar}.png`;
  if (member.user?.avatar) return `https://cdn.discordapp.com/avatars/${userId}/${member.user.avatar}.png`;
  const index = /^\d+$/.test(userId) ? Number((BigInt(userId) >> 22n) % 6n) : 0;
  return `https://cdn.discordapp.com/embed/avatars/${index}.png`;
}

/** The name people see: guild nickname, else global display name, else username. */
export function displayNameOf(member: { nick?: string | null; user?: Pick<APIUser, 'global_name' | 'username'> }): string | undefined {
  return member.nick ?? member.user?.global_name ?? member.user?.username ?? undefined;
}

/**
 * Speaker names for one session, learnt from interaction and voice-state payloads, with a REST lookup as
 * fallback. Lives and dies with the session, so it never grows beyond the people who spoke in it.
 */
export class DisplayNames {
  private readonly names = new Map<string, string>();
  private readonly avatars = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly guildId: string,
    private readonly fetchMember: FetchMember,
    private readonly logger: Logger,
  ) {}

  /** Remembers a name seen in a payload. */
  remember(userId: string, member: MemberLike | undefined): void {
    const name = member ? displayNameOf(member) : undefined;
    if (name) this.names.set(userId, name);
    if (member) this.avatars.set(userId, avatarUrlOf(this.guildId, userId, member));
  }

  /** The speaker's avatar URL, once a payload or lookup told us (call after resolve()). */
  avatarOf(userId: string): string | undefined {
    return this.avatars.get(userId);
  }

  /** The speaker's name; asks Discord once if no payload told us. */
  async resolve(userId: string): Promise<string> {
    const known = this.names.get(userId);
    if (known) return known;
    let pending = this.pending.get(userId);
    if (!pending) {
      pending = this.fetchMember(this.guildId, userId)
        .then((member) => {
          if (!this.avatars.has(userId)) this.avatars.set(userId, avatarUrlOf(this.guildId, userId, member));
          return displayNameOf(member) ?? `User ${userId}`;
        })
        .catch((error: unknown) => {
          this.logger.warn('could not look up a member name', { userId, error });
          return `User ${userId}`;
        })
        .then((name) => {
          this.pending.delete(userId);
          // A payload may have told us the name meanwhile; it is as fresh, and never a placeholder.
          const learnt = this.names.get(userId);
          if (learnt) return learnt;
          this.names.set(userId, name);
          return name;
        });
      this.pending.set(userId, pending);
    }
    return pending;
  }
}
