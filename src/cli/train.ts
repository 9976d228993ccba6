// p2sgrad train: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "train",
  summary: "",
  usage: "p2sgrad train: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad train is not built yet"));
  },
};
