import { loadConfig, type Config } from './Config.js';

/** What `npm run register` needs: only the Discord side (no transcription key). */
export type RegisterConfig = Config['discord'];

/** Validates the environment for command registration; throws ConfigError like {@link loadConfig}. */
export function loadRegisterConfig(env: Readonly<Record<string, string | undefined>>): RegisterConfig {
  // Registration never talks to the transcription API, so its key is not required here.
  return loadConfig({ ...env, TRANSCRIBE_API_KEY: env['TRANSCRIBE_API_KEY'] ?? 'none' }).discord;
}
