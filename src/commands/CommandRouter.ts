import { MessageFlags, type API } from '@discordjs/core';
import { parseInteraction, type AnswerableInteraction, type CommandInvocation } from './parseInteraction.js';
import type { Clock } from '../util/Clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/Metrics.js';
import { errorMessage } from '../util/errors.js';

/** A reply: text, shown only to the caller when ephemeral. */
export interface Reply {
  readonly content: string;
  readonly ephemeral?: boolean;
  readonly files?: readonly { name: string; data: Buffer }[];
}

/** A command's logic: gets the validated invocation, returns the reply. May take longer than 3 s. */
export type CommandHandler = (invocation: CommandInvocation) => Promise<Reply>;

export interface CommandRouterOptions {
  readonly api: API;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Discord drops an interaction that is not answered within 3 s; defer well before that. */
  readonly deferAfterMs?: number;
}

/**
 * Routes slash commands to handlers from one table and guarantees every interaction an answer:
 * a handler that is still working after `deferAfterMs` gets a deferred reply (edited when it finishes),
 * and an error becomes an ephemeral message instead of a silent "The application did not respond".
 */
export class CommandRouter {
  private readonly handlers = new Map<string, CommandHandler>();
  private accepting = true;

  constructor(private readonly options: CommandRouterOptions) {}

  /** Adds a handler for a command name. */
  register(name: string, handler: CommandHandler): this {
    this.handlers.set(name, handler);
    return this;
  }

  /** Stops taking commands (shutdown); later interactions get a short refusal. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Handles one INTERACTION_CREATE. Never throws (it is called fire-and-forget from a gateway listener, where a
   * rejection would be unhandled): whatever goes wrong is logged and, when possible, answered.
   */
  async handle(raw: unknown): Promise<void> {
    try {
      await this.route(raw);
    } catch (error) {
      this.options.metrics.inc('commands_failed_total');
      this.options.logger.error('interaction handling failed', { error, stack: error instanceof Error ? error.stack : undefined });
    }
  }

  private async route(raw: unknown): Promise<void> {
    const parsed = parseInteraction(raw);
    if (!parsed.ok) {
      if (!parsed.answerTo) {
        this.options.logger.debug('ignored interaction', { reason: parsed.reason });
        return;
      }
      // A chat command we cannot read: tell the person instead of leaving Discord's "did not respond".
      this.options.metrics.inc('interactions_malformed_total');
      this.options.logger.warn('malformed interaction', { reason: parsed.reason, interactionId: parsed.answerTo.interactionId });
      await this.answerMalformed(parsed.answerTo, parsed.reason);
      return;
    }
    const invocation = parsed.invocation;
    const log = this.options.logger.child({ guildId: invocation.guildId, command: invocation.name });
    this.options.metrics.inc('commands_total');
    const handler = this.handlers.get(invocation.name);
    const { api, clock } = this.options;

    let deferred = false;
    let answered = false;
    let deferring: Promise<unknown> | undefined;
    const timer = clock.setTimeout(() => {
      if (answered) return;
      deferred = true;
      deferring = api.interactions.defer(invocation.interactionId, invocation.token).catch((error: unknown) => {
        log.warn('defer failed', { error: errorMessage(error) });
      });
    }, this.options.deferAfterMs ?? 2000);

    let reply: Reply;
    try {
      if (!this.accepting) reply = { content: 'tinyscribe is restarting; try again in a minute.', ephemeral: true };
      else if (!handler) reply = { content: `Unknown command /${invocation.name}.`, ephemeral: true };
      else reply = await handler(invocation);
    } catch (error) {
      this.options.metrics.inc('commands_failed_total');
      log.error('command failed', { error });
      reply = { content: `Something went wrong: ${errorMessage(error)}`, ephemeral: true };
    }
    clock.clearTimeout(timer);
    answered = true;

    const files = reply.files?.map((f) => ({ name: f.name, data: f.data }));
    const body = {
      content: reply.content,
      allowed_mentions: { parse: [] },
      ...(reply.ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
      ...(files ? { files } : {}),
    };
    try {
      if (deferred) {
        await deferring;
        await api.interactions.editReply(invocation.applicationId, invocation.token, body);
      } else {
        await api.interactions.reply(invocation.interactionId, invocation.token, body);
      }
    } catch (error) {
      this.options.metrics.inc('commands_failed_total');
      log.error('could not answer the interaction', { error: errorMessage(error) });
    }
  }

  private async answerMalformed(target: AnswerableInteraction, reason: string): Promise<void> {
    const body = { content: `tinyscribe could not read this command (${reason}); please try again.`, allowed_mentions: { parse: [] }, flags: MessageFlags.Ephemeral };
    try {
      await this.options.api.interactions.reply(target.interactionId, target.token, body);
    } catch (error) {
      this.options.logger.warn('could not answer a malformed interaction', { error: errorMessage(error) });
    }
  }
}
