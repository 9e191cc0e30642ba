/** One stored segment as the spool's index knows it (metadata stays on disk until the entry is opened). */
export interface SpoolEntry {
  /** File name inside the spool directory. */
  readonly name: string;
  /** Original start of the speech (epoch ms), from the file name. */
  readonly startedAt: number;
  /** Segment id, from the file name. */
  readonly id: number;
  /** Size of the file. */
  readonly bytes: number;
}
