// A worker that renders chunks of synthetic faces for synthetic_pool.ts: it gets the
// config and (identity, image) pairs, and sends back the PPM files and landmarks in one
// transferred buffer each. Rendering is a pure function of its inputs, so which thread
// renders an image never changes its bytes.
import { type SyntheticConfig, SyntheticRenderer } from "./synthetic.ts";

export interface RenderRequest {
  cfg: SyntheticConfig;
  /** index0, image0, index1, image1, … */
  jobs: Int32Array;
}

export interface RenderReply {
  /** The PPM files back to back, all of one length. */
  ppms: Uint8Array;
  landmarks: Float32Array;
  error?: string;
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<RenderRequest>) => void) | null;
  postMessage(message: RenderReply, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
let renderer: SyntheticRenderer | null = null;
let key = "";

scope.onmessage = (e) => {
  try {
    const { cfg, jobs } = e.data;
    const k = JSON.stringify(cfg);
    if (renderer === null || k !== key) [renderer, key] = [new SyntheticRenderer(cfg), k];
    const n = jobs.length / 2, len = renderer.ppmLength;
    const ppms = new Uint8Array(n * len);
    const landmarks = new Float32Array(n * 10);
    for (let i = 0; i < n; i++) {
      landmarks.set(renderer.renderInto(jobs[2 * i], jobs[2 * i + 1], ppms, i * len), i * 10);
    }
    scope.postMessage({ ppms, landmarks }, [ppms.buffer, landmarks.buffer]);
  } catch (err) {
    scope.postMessage({
      ppms: new Uint8Array(0),
      landmarks: new Float32Array(0),
      error: String(err),
    }, []);
  }
};
