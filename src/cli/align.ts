// p2sgrad align: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "align",
  summary: "",
  usage: "p2sgrad align: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad align is not built yet"));
  },
};
