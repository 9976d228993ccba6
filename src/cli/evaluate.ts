// p2sgrad evaluate: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "evaluate",
  summary: "",
  usage: "p2sgrad evaluate: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad evaluate is not built yet"));
  },
};
