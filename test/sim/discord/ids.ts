/** Discord's epoch (2015-01-01T00:00:00Z) in milliseconds, the zero point of every snowflake. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000;

/**
 * Makes deterministic, numeric snowflake strings. The libraries need real-looking IDs: ws routes shards with
 * `BigInt(guild_id)`, rest's bucket regex expects 17–19 digits and DAVE encodes user IDs as u64.
 * `baseMs` picks the era and therefore the length: 2015-02 gives 17 digits, 2016 gives 18, 2024 gives 19.
 */
export class SnowflakeFactory {
  private counter = 0;

  constructor(private readonly baseMs: number = Date.UTC(2024, 0, 1)) {}

  /** The next ID; one millisecond apart so IDs also sort by creation, like Discord's. */
  next(): string {
    const ms = BigInt(this.baseMs - DISCORD_EPOCH_MS + this.counter);
    // worker 1, process 0, increment = low 12 bits of the counter
    const id = (ms << 22n) | (1n << 17n) | BigInt(this.counter & 0xfff);
    this.counter++;
    return id.toString();
  }
}

/** Timestamp (ms since the Unix epoch) encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS;
}
