/** Network error codes that mean "Discord could not be reached", as Node and undici report them. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The first `code` string on an error or its causes (undici nests the socket error as `cause`). */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
  }
  return undefined;
}

/** An HTTP status carried by a Discord REST error (DiscordAPIError / HTTPError from @discordjs/rest). */
function discordStatus(error: unknown): number | undefined {
  if (!(error instanceof Error) || !/^(DiscordAPIError|HTTPError)/.test(error.name)) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * What to tell a person whose bot failed to start: the common causes (a rejected token, Discord out of reach) in one
 * actionable sentence without a stack; anything else with its stack, since that is a bug to report.
 */
export function describeStartupFailure(error: unknown, apiUrl: string | undefined): string {
  const status = discordStatus(error);
  if (status === 401) {
    return 'Discord rejected DISCORD_TOKEN (401 Unauthorized). Copy a fresh token from the Developer Portal (your application → Bot → Reset Token) and set DISCORD_TOKEN again.';
  }
  if (status !== undefined) {
    return `Discord answered ${status} while the bot was connecting: ${(error as Error).message}. Check DISCORD_TOKEN and https://discordstatus.com, then start again.`;
  }
  const code = networkCode(error);
  if (code) {
    return `Could not reach Discord at ${apiUrl ?? 'the API URL'} (${code}). Check the machine's network and DNS${apiUrl && apiUrl !== 'https://discord.com/api' ? ', and DISCORD_API_URL (normally unset)' : ''}, then start again.`;
  }
  return `tinyscribe crashed during start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}
