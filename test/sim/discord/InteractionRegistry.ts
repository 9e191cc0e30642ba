/** An interaction the simulator issued with INTERACTION_CREATE, and what the bot has done with it so far. */
export interface IssuedInteraction {
  readonly id: string;
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly commandName: string;
  /** performance.now() when INTERACTION_CREATE was dispatched. */
  readonly createdAt: number;
  /** Callback type once acknowledged (4 reply, 5 defer…). */
  callbackType: number | undefined;
  /** ID of the @original message once it exists. */
  originalMessageId: string | undefined;
}

/**
 * Interactions by ID and by token. The REST routes use it to answer like Discord: an unknown interaction is
 * 404 (10062), a second callback is 400 (40060), and @original does not exist before the callback.
 */
export class InteractionRegistry {
  private readonly byId = new Map<string, IssuedInteraction>();
  private readonly byToken = new Map<string, IssuedInteraction>();

  /** Remembers a new interaction. */
  add(interaction: IssuedInteraction): void {
    this.byId.set(interaction.id, interaction);
    this.byToken.set(interaction.token, interaction);
  }

  /** By interaction ID. */
  get(id: string): IssuedInteraction | undefined {
    return this.byId.get(id);
  }

  /** By webhook token. */
  withToken(token: string): IssuedInteraction | undefined {
    return this.byToken.get(token);
  }
}
