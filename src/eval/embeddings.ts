// Embeddings held in memory for evaluation, and how protocol files name them: a list
// entry matches a stream id exactly, else by id without extension, else by file name.

/** Rows of one embeddings stream, in stream order. */
export interface EmbeddingTable {
  ids: string[];
  identities: string[];
  /** rows × dim, L2-normalised (as the embed stage writes them). */
  feats: Float32Array;
  /** Length before normalisation, per row. */
  norms: Float32Array;
  dim: number;
  /** `p2sgrad.*` stream metadata beyond kind/version (e.g. flip), for the JSON conventions. */
  meta: Record<string, string>;
}

const stripExt = (s: string) => s.replace(/\.[A-Za-z0-9]{1,5}$/, "");
const fileName = (s: string) => s.slice(s.lastIndexOf("/") + 1);

/** Looks names up among a table's ids; `find` returns the row or −1. */
export class IdIndex {
  #exact = new Map<string, number>();
  #noExt = new Map<string, number>();
  #file = new Map<string, number>();
  readonly duplicates: string[] = [];

  constructor(ids: string[]) {
    ids.forEach((id, row) => {
      if (this.#exact.has(id)) this.duplicates.push(id);
      else this.#exact.set(id, row);
      if (!this.#noExt.has(stripExt(id))) this.#noExt.set(stripExt(id), row);
      if (!this.#file.has(fileName(id))) this.#file.set(fileName(id), row);
    });
  }

  find(name: string): number {
    return this.#exact.get(name) ?? this.#noExt.get(stripExt(name)) ??
      this.#file.get(fileName(name)) ?? -1;
  }
}
