import { API } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import { ConfigError } from '../config/Config.js';
import { loadRegisterConfig } from '../config/RegisterConfig.js';
import { errorMessage } from '../util/errors.js';
import { COMMANDS } from './definitions.js';

/**
 * `npm run register`: overwrites the application's slash commands with {@link COMMANDS}.
 * With REGISTER_GUILD_ID they are guild commands (visible at once); otherwise global (Discord may take a while).
 */
async function register(): Promise<void> {
  let config;
  try {
    config = loadRegisterConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tinyscribe cannot register commands.\n${error.message}\n`);
    process.exit(2);
  }
  const api = new API(new REST({ version: '10', api: config.apiUrl }).setToken(config.token));
  const applicationId = config.applicationId ?? (await api.applications.getCurrent()).id;
  const registered = config.registerGuildId
    ? await api.applicationCommands.bulkOverwriteGuildCommands(applicationId, config.registerGuildId, [...COMMANDS])
    : await api.applicationCommands.bulkOverwriteGlobalCommands(applicationId, [...COMMANDS]);
  const where = config.registerGuildId ? `guild ${config.registerGuildId}` : 'all guilds (global commands can take up to an hour to appear)';
  process.stdout.write(`Registered ${registered.map((c) => `/${c.name}`).join(', ')} for ${where}.\n`);
}

register().catch((error: unknown) => {
  process.stderr.write(`Command registration failed: ${errorMessage(error)}\n`);
  process.exit(1);
});
