// Selection: filters, per-identity limits, identity-disjoint split, seeded noise at the
// requested fraction, shards that partition, and dense labels in identity order.
import { assert, assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import { addLabelNoise, identityOrder, selectImages, valIdentities } from "./select.ts";
import { Rng } from "../util/random.ts";

/** n identities "p00".."p{n-1}", identity i with 1 + (i mod 5) images, ids shuffled. */
function people(n: number): { id: string; identity: string }[] {
  const out: { id: string; identity: string }[] = [];
  for (let i = 0; i < n; i++) {
    const name = `p${String(i).padStart(2, "0")}`;
    for (let k = 0; k < 1 + (i % 5); k++) out.push({ id: `${name}/${k}.jpg`, identity: name });
  }
  return new Rng(99).shuffle(out);
}

Deno.test("labels are dense 0..C-1 in sorted identity order; rows sorted by id", () => {
  const { items, report } = selectImages(people(12));
  assertEquals(items.map((r) => r.id), [...items.map((r) => r.id)].sort());
  const names = identityOrder(items.map((r) => r.identity));
  for (const r of items) assertEquals(r.label, names.indexOf(r.identity));
  assertEquals(report.identities, 12);
  assertEquals(new Set(items.map((r) => r.label)).size, 12);
  assert(items.every((r) => r.label === r.cleanLabel));
});

Deno.test("identity order is numeric when every name is a number", () => {
  assertEquals(identityOrder(["10", "9", "100", "9"]), ["9", "10", "100"]);
  assertEquals(identityOrder(["b", "10", "a"]), ["10", "a", "b"]);
});

Deno.test("filters: --identities, --exclude-identities, --min-per-id, --max-per-id, --max-ids", () => {
  const all = people(20);
  const only = selectImages(all, { identities: new Set(["p01", "p07", "nobody"]) });
  assertEquals([...new Set(only.items.map((r) => r.identity))], ["p01", "p07"]);
  assertEquals(only.items.map((r) => r.label), [0, 0, 1, 1, 1]);
  const without = selectImages(all, { excludeIdentities: new Set(["p00", "p01"]) });
  assertEquals(without.report.identities, 18);
  const min3 = selectImages(all, { minPerId: 3 });
  assert(min3.items.every((r) => Number(r.identity.slice(1)) % 5 >= 2));
  assertEquals(min3.report.identities, 12);
  const max2 = selectImages(all, { maxPerId: 2 });
  const counts = new Map<string, string[]>();
  for (const r of max2.items) counts.set(r.identity, [...(counts.get(r.identity) ?? []), r.id]);
  for (const [name, ids] of counts) {
    assert(ids.length <= 2);
    assertEquals(ids, all.filter((r) => r.identity === name).map((r) => r.id).sort().slice(0, 2));
  }
  const first5 = selectImages(all, { minPerId: 2, maxIds: 5 });
  assertEquals([...new Set(first5.items.map((r) => r.identity))], [
    "p01",
    "p02",
    "p03",
    "p04",
    "p06",
  ]);
  assertEquals(first5.report.removed.map((s) => s.step), ["--min-per-id 2", "--max-ids 5"]);
});

Deno.test("split: train and val are identity-disjoint, cover everything, and val has round(f·C) identities", () => {
  const all = people(40);
  const train = selectImages(all, { split: "train", valFraction: 0.25, seed: 3 });
  const val = selectImages(all, { split: "val", valFraction: 0.25, seed: 3 });
  const ti = new Set(train.items.map((r) => r.identity)),
    vi = new Set(val.items.map((r) => r.identity));
  assertEquals([...ti].filter((n) => vi.has(n)), []);
  assertEquals(ti.size + vi.size, 40);
  assertEquals(vi.size, 10);
  assertEquals(train.items.length + val.items.length, all.length);
  // Each part has its own dense labels.
  assertEquals(new Set(val.items.map((r) => r.label)), new Set([...Array(10).keys()]));
  const other = valIdentities(all.map((r) => r.identity), 0.25, 4);
  assertNotEquals([...other].sort(), [...vi].sort(), "another seed picks other identities");
  assertEquals(valIdentities(all.map((r) => r.identity), 0.25, 3), vi);
});

Deno.test("label noise hits exactly round(p·N) images, always with a wrong label, seeded", () => {
  const all = people(30);
  for (const p of [0, 0.1, 0.37, 1]) {
    const { items, report } = selectImages(all, { labelNoise: p, seed: 7 });
    const flipped = items.filter((r) => r.label !== r.cleanLabel);
    assertEquals(flipped.length, Math.round(p * all.length), `p = ${p}`);
    assertEquals(report.noisy, flipped.length);
    assert(items.every((r) => r.label >= 0 && r.label < 30));
  }
  const a = selectImages(all, { labelNoise: 0.3, seed: 1 }).items.map((r) => r.label);
  const b = selectImages(all, { labelNoise: 0.3, seed: 1 }).items.map((r) => r.label);
  const c = selectImages(all, { labelNoise: 0.3, seed: 2 }).items.map((r) => r.label);
  assertEquals(a, b);
  assertNotEquals(a, c);
  // Noisy labels spread over the wrong classes rather than all landing on one.
  const rows = Array.from({ length: 3000 }, () => ({ label: 0, cleanLabel: 0 }));
  addLabelNoise(rows, 4, 1, 5);
  const hist = [0, 0, 0, 0];
  for (const r of rows) hist[r.label]++;
  assertEquals(hist[0], 0);
  for (const k of [1, 2, 3]) assert(Math.abs(hist[k] - 1000) < 120, `class ${k}: ${hist[k]}`);
  assertThrows(
    () => addLabelNoise([{ label: 0, cleanLabel: 0 }], 1, 1, 0),
    Error,
    "two identities",
  );
});

Deno.test("shards partition the rows and keep global labels", () => {
  const all = people(25);
  const whole = selectImages(all, { labelNoise: 0.2, seed: 9 }).items;
  const shards = [0, 1, 2].map((index) =>
    selectImages(all, { labelNoise: 0.2, seed: 9, shard: { index, count: 3 } }).items
  );
  const union = shards.flat().sort((x, y) => (x.id < y.id ? -1 : 1));
  assertEquals(union, whole);
  assertEquals(shards.map((s) => s.length).reduce((x, y) => x + y), whole.length);
  for (const s of shards) assert(Math.abs(s.length - whole.length / 3) <= 1);
});

Deno.test("duplicate ids are refused", () => {
  assertThrows(
    () => selectImages([{ id: "a", identity: "x" }, { id: "a", identity: "y" }]),
    Error,
    "appears twice",
  );
});
