import type { Suite } from '../harness.js';
import { backbonesSuite } from './backbones.js';
import { dataSuite } from './data.js';
import { kernelsSuite } from './kernels.js';
import { partialFcSuite } from './partial-fc.js';
import { partialFcScaleSuite } from './partial-fc-scale.js';
import { inferenceSuite } from './inference.js';
import { trainingSuite } from './training.js';
import { trainSuite } from './train.js';
import { nativeSuite } from './native.js';

/** Every benchmark suite; later issues add theirs here. */
export const SUITES: Suite[] = [kernelsSuite, backbonesSuite, dataSuite, partialFcSuite, trainingSuite, trainSuite, inferenceSuite, partialFcScaleSuite, nativeSuite];
