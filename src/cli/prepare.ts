// p2sgrad prepare: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "prepare",
  summary: "",
  usage: "p2sgrad prepare: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad prepare is not built yet"));
  },
};
