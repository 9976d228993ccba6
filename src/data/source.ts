// What every dataset reader returns before selection: candidate images and what it skipped.

/** One image a reader found, before filters and labels. */
export interface Candidate {
  /** Unique: the path relative to the dataset root, or `<file>:<key>` inside a container. */
  id: string;
  identity: string;
  /** Path of the file to decode; "" when `readBytes` supplies the encoded image. */
  path: string;
  landmarks: Float32Array | null;
  /** For containers (RecordIO): reads the encoded image when the record is written. */
  readBytes?: () => Promise<Uint8Array>;
}

/** Things a reader passed over, by reason, with a few examples for the summary. */
export class Skips {
  readonly byReason = new Map<string, { count: number; examples: string[] }>();

  add(reason: string, example: string): void {
    const entry = this.byReason.get(reason) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < 3) entry.examples.push(example);
    this.byReason.set(reason, entry);
  }

  get total(): number {
    let n = 0;
    for (const { count } of this.byReason.values()) n += count;
    return n;
  }

  /** One line per reason: `  12 reason (e.g. a, b, c)`. */
  lines(): string[] {
    return [...this.byReason].map(([reason, { count, examples }]) =>
      `  ${String(count).padStart(6)} ${reason} (e.g. ${examples.join(", ")})`
    );
  }
}
