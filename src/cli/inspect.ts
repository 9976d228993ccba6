// p2sgrad inspect: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "inspect",
  summary: "",
  usage: "p2sgrad inspect: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad inspect is not built yet"));
  },
};
