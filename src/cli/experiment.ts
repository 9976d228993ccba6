// p2sgrad experiment: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "experiment",
  summary: "",
  usage: "p2sgrad experiment: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad experiment is not built yet"));
  },
};
