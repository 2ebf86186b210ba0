// The detector: @vladmandic/face-api (MIT), a maintained fork of face-api.js, whose npm package ships its model
// weights under model/ (no download at run time). Its CommonJS node-wasm build `require`s '@tensorflow/tfjs', the
// very module instance @facet/engine imports (Node shares one CJS module between import and require), so the nets
// run on Facet's single tfjs engine and backend; `loadFaceApi` checks that rather than assuming it. The nets:
// SSD-MobileNetV1 (WIDER FACE) or TinyFaceDetector for boxes, and the 68-point landmark net (iBUG 300-W layout).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initEngine, tf } from '@facet/engine';
import { AlignError } from './errors.js';

export interface FaceApiPoint {
  x: number;
  y: number;
}
export interface FaceApiResult {
  detection: { box: { x: number; y: number; width: number; height: number }; score: number };
  landmarks: { positions: FaceApiPoint[] };
}
interface FaceApiTask extends PromiseLike<FaceApiResult[]> {}
interface FaceApiNet {
  loadFromDisk(dir: string): Promise<void>;
  isLoaded: boolean;
}
interface FaceApiModule {
  tf: typeof tf;
  version: string;
  nets: { ssdMobilenetv1: FaceApiNet; tinyFaceDetector: FaceApiNet; faceLandmark68Net: FaceApiNet };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
  TinyFaceDetectorOptions: new (o: { scoreThreshold: number; inputSize: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): { withFaceLandmarks(): FaceApiTask };
}

export type DetectorName = 'ssd' | 'tiny';

export interface LoadedDetector {
  api: FaceApiModule;
  /** e.g. "@vladmandic/face-api 1.7.15 (ssd_mobilenetv1 + face_landmark_68)". */
  name: string;
  version: string;
}

const loaded = new Map<DetectorName, Promise<LoadedDetector>>();

async function load(detector: DetectorName): Promise<LoadedDetector> {
  // the weights become tensors on the engine's backend, so it must be chosen first (FACET_BACKEND or auto)
  await initEngine();
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  let api: FaceApiModule;
  try {
    pkgDir = dirname(require.resolve('@vladmandic/face-api/package.json'));
    api = require(join(pkgDir, 'dist', 'face-api.node-wasm.js')) as FaceApiModule;
  } catch (e) {
    throw new AlignError(`face detector: @vladmandic/face-api cannot be loaded (${(e as Error).message.split('\n')[0]}); run npm install in the repository root.`);
  }
  if (!api.tf || api.tf.engine() !== tf.engine()) {
    throw new AlignError('face detector: @vladmandic/face-api loaded a second copy of tfjs instead of sharing Facet’s; `npm ls @tensorflow/tfjs-core` must show a single, deduped 4.22.0.');
  }
  const version = (require(join(pkgDir, 'package.json')) as { version: string }).version;
  const modelDir = join(pkgDir, 'model');
  const boxNet = detector === 'ssd' ? api.nets.ssdMobilenetv1 : api.nets.tinyFaceDetector;
  try {
    if (!boxNet.isLoaded) await boxNet.loadFromDisk(modelDir);
    if (!api.nets.faceLandmark68Net.isLoaded) await api.nets.faceLandmark68Net.loadFromDisk(modelDir);
  } catch (e) {
    throw new AlignError(`face detector: the weights in ${modelDir} cannot be read (${(e as Error).message.split('\n')[0]}); reinstall @vladmandic/face-api.`);
  }
  const boxName = detector === 'ssd' ? 'ssd_mobilenetv1' : 'tiny_face_detector';
  return { api, version, name: `@vladmandic/face-api ${version} (${boxName} + face_landmark_68)` };
}

/** face-api with the nets for `detector` loaded, once per process. */
export function loadFaceApi(detector: DetectorName = 'ssd'): Promise<LoadedDetector> {
  let p = loaded.get(detector);
  if (!p) {
    p = load(detector);
    // a failed load is retried next time (e.g. after the engine was initialised)
    p.catch(() => loaded.delete(detector));
    loaded.set(detector, p);
  }
  return p;
}
