// `deno task demo`: the main job on built-in synthetic faces (no data needed), and
// `deno task demo:lfw`: the same on the CelebA subset → LFW View 2. See src/experiment/demo.ts.
//
//   deno task demo [--out report/demo] [--steps N] [--tiny]
//   deno task demo:lfw [--data DIR] [--out report/demo-lfw] [--steps N]
import { parseArgs } from "@std/cli/parse-args";
import { InputError } from "../src/cli/errors.ts";
import {
  DEMO_SIZES,
  type DemoPlan,
  findDemoData,
  lfwPlan,
  runDemo,
  summaryLines,
  syntheticPlan,
} from "../src/experiment/demo.ts";

const USAGE = `Usage: deno task demo [--out DIR] [--steps N] [--tiny]
       deno task demo:lfw [--data DIR] [--out DIR] [--steps N]

Runs prepare → align → train → embed → evaluate as stage processes joined by pipes and
writes a report folder (report.md, curves and ROC plots as SVG and PNG, metrics.json,
summary.json, train.log, commands.sh, the run folder). Starts over on every run.

  --out DIR   report folder (default report/demo, report/demo-lfw with --lfw)
  --steps N   training steps (synthetic default ${DEMO_SIZES.default.steps}; lfw: train's default epochs)
  --tiny      a seconds-long synthetic run at 32 px (checks the wiring, learns little)
  --lfw       CelebA subset → LFW View 2 on the real data
  --data DIR  folder holding lfw/ and celeba_subset_112x112/ (default $P2SGRAD_DATA, ../shared/data)`;

async function main(args: string[]): Promise<number> {
  const a = parseArgs(args, {
    string: ["out", "steps", "data"],
    boolean: ["tiny", "lfw", "help"],
    unknown: (arg: string) => {
      if (!arg.startsWith("-")) return true;
      throw new InputError(`unknown option ${arg}\n\n${USAGE}`);
    },
  }) as { out?: string; steps?: string; data?: string; tiny: boolean; lfw: boolean; help: boolean };
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const steps = a.steps === undefined ? null : Number(a.steps);
  if (steps !== null && !(Number.isInteger(steps) && steps >= 1)) {
    throw new InputError(`--steps expects a positive integer, got ${a.steps}`);
  }
  let plan: DemoPlan;
  if (a.lfw) {
    const root = await findDemoData(a.data);
    plan = lfwPlan(a.out ?? "report/demo-lfw", root, steps);
  } else {
    const size = { ...DEMO_SIZES[a.tiny ? "tiny" : "default"] };
    if (steps !== null) {
      size.steps = steps;
      size.valEvery = Math.max(1, Math.round(steps / 3));
    }
    plan = syntheticPlan(a.out ?? "report/demo", size);
  }
  const say = (line: string) => {
    console.error(line);
    return Promise.resolve();
  };
  await say(
    `p2sgrad demo (${plan.mode}): ${plan.steps.length} commands, report in ${plan.out}/`,
  );
  const mainPath = new URL("../main.ts", import.meta.url).pathname;
  const summary = await runDemo(plan, say, mainPath);
  console.log(
    [`\np2sgrad demo (${plan.mode}) done:`, ...summaryLines(summary).map((l) => `  ${l}`)]
      .join("\n") + `\n  report: ${plan.out}/report.md`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof InputError) {
      console.error(`demo: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
