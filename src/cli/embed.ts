// p2sgrad embed: placeholder until the stage lands (see the open issue that builds it).
import type { Stage } from "./stage.ts";

export const stage: Stage = {
  name: "embed",
  summary: "",
  usage: "p2sgrad embed: not built yet",
  run() {
    return Promise.reject(new Error("p2sgrad embed is not built yet"));
  },
};
