// Parameters of a procedurally drawn face. Identity = fixed geometry and appearance drawn from (seed, identity);
// each image's nuisances (pose, lighting, expression, background, occlusion, noise, blur) are drawn from
// (seed, identity, variant) and scaled by a strength in [0, 1] (0 ⇒ every image of an identity is identical).

import { makeRng, mixSeed, type Rng } from '../rng.js';

export type Rgb = [number, number, number];

export interface FaceIdentity {
  faceRx: number;
  faceRy: number;
  /** Chin taper: the lower half narrows by this fraction at the chin. */
  jaw: number;
  skin: Rgb;
  hair: Rgb;
  /** 0 short, 1 long, 2 receding, 3 bangs. */
  hairStyle: number;
  /** Hairline height (canonical v, negative = above the face centre). */
  hairline: number;
  hairVolume: number;
  parting: number;
  eyeY: number;
  eyeDx: number;
  eyeRx: number;
  eyeRy: number;
  iris: Rgb;
  irisR: number;
  browGap: number;
  browThick: number;
  browLen: number;
  browTilt: number;
  browArch: number;
  noseLen: number;
  noseW: number;
  mouthY: number;
  mouthW: number;
  lipThick: number;
  lip: Rgb;
  earY: number;
  earSize: number;
  /** 0 none, else beard density. */
  beard: number;
  moustache: boolean;
  moles: Array<{ u: number; v: number; r: number }>;
  glasses: boolean;
  glassesTint: Rgb;
}

export type Occluder =
  | { kind: 'none' }
  | { kind: 'sunglasses'; colour: Rgb }
  | { kind: 'mask'; colour: Rgb; top: number }
  | { kind: 'patch'; colour: Rgb; x: number; y: number; w: number; h: number; angle: number };

export interface FaceNuisance {
  tx: number;
  ty: number;
  rotation: number;
  scale: number;
  /** Head turn in [-1, 1]: inner features slide sideways, the far side narrows. */
  yaw: number;
  light: { x: number; y: number; z: number; ambient: number; diffuse: number };
  brightness: number;
  contrast: number;
  tint: Rgb;
  bgA: Rgb;
  bgB: Rgb;
  bgAngle: number;
  bgTexture: { amp: number; fx: number; fy: number; phase: number };
  clothing: Rgb;
  smile: number;
  mouthOpen: number;
  eyeOpen: number;
  browRaise: number;
  gazeX: number;
  gazeY: number;
  occluder: Occluder;
  noiseSigma: number;
  blurSigma: number;
}

const SKIN_TONES: Rgb[] = [
  [250, 215, 190],
  [232, 190, 160],
  [205, 160, 125],
  [175, 125, 90],
  [135, 90, 62],
  [95, 62, 45],
];
const HAIR_COLOURS: Rgb[] = [
  [25, 20, 20],
  [60, 40, 28],
  [105, 70, 42],
  [170, 130, 80],
  [215, 190, 130],
  [140, 60, 30],
  [165, 165, 165],
];
const IRIS_COLOURS: Rgb[] = [
  [75, 45, 25],
  [120, 80, 40],
  [60, 110, 160],
  [80, 130, 90],
  [110, 120, 125],
];

const jitter = (rng: Rng, c: Rgb, amount: number): Rgb => [
  c[0] + rng.uniform(-amount, amount),
  c[1] + rng.uniform(-amount, amount),
  c[2] + rng.uniform(-amount, amount),
];

function lerpPalette(palette: Rgb[], t: number): Rgb {
  const x = Math.min(0.9999, Math.max(0, t)) * (palette.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  const a = palette[i]!;
  const b = palette[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** The fixed look of identity `identity` under `seed`. */
export function drawIdentity(seed: number, identity: number): FaceIdentity {
  const rng = makeRng(mixSeed(seed, 0x1d3a, identity));
  const faceRx = rng.uniform(27, 37);
  const faceRy = rng.uniform(36, 46);
  const hairStyle = rng.int(4);
  const moles: FaceIdentity['moles'] = [];
  const nMoles = rng.chance(0.5) ? 1 + rng.int(2) : 0;
  for (let i = 0; i < nMoles; i++) moles.push({ u: rng.uniform(-0.6, 0.6) * faceRx, v: rng.uniform(-0.1, 0.7) * faceRy, r: rng.uniform(1.2, 2.2) });
  const hair = jitter(rng, HAIR_COLOURS[rng.int(HAIR_COLOURS.length)]!, 15);
  return {
    faceRx,
    faceRy,
    jaw: rng.uniform(0.05, 0.35),
    skin: jitter(rng, lerpPalette(SKIN_TONES, rng.next()), 10),
    hair,
    hairStyle,
    hairline: -faceRy * rng.uniform(hairStyle === 2 ? 0.75 : 0.5, hairStyle === 3 ? 0.45 : 0.7) - (hairStyle === 3 ? -8 : 0),
    hairVolume: rng.uniform(2, 9),
    parting: rng.uniform(-1, 1),
    eyeY: rng.uniform(-10, -3),
    eyeDx: rng.uniform(11, 16),
    eyeRx: rng.uniform(5, 7.5),
    eyeRy: rng.uniform(2.4, 4),
    iris: jitter(rng, IRIS_COLOURS[rng.int(IRIS_COLOURS.length)]!, 12),
    irisR: rng.uniform(2.2, 3.2),
    browGap: rng.uniform(5, 9),
    browThick: rng.uniform(1.2, 2.8),
    browLen: rng.uniform(6, 9),
    browTilt: rng.uniform(-0.25, 0.25),
    browArch: rng.uniform(0, 0.06),
    noseLen: rng.uniform(12, 20),
    noseW: rng.uniform(4.5, 8),
    mouthY: rng.uniform(17, 25),
    mouthW: rng.uniform(9, 15),
    lipThick: rng.uniform(1.6, 3.6),
    lip: jitter(rng, [170, 80, 80], 25),
    earY: rng.uniform(-6, 2),
    earSize: rng.uniform(0.8, 1.25),
    beard: rng.chance(0.25) ? rng.uniform(0.45, 0.9) : 0,
    moustache: rng.chance(0.25),
    moles,
    glasses: rng.chance(0.15),
    glassesTint: jitter(rng, [40, 40, 45], 30),
  };
}

/** The nuisances of image `variant` of `identity` (strength 0 ⇒ canonical pose, flat light, grey background). */
export function drawNuisance(seed: number, identity: number, variant: number, strength: number): FaceNuisance {
  const rng = makeRng(mixSeed(seed, 0x2e4b, identity, variant));
  const s = Math.min(1, Math.max(0, strength));
  const u = (a: number) => rng.uniform(-a, a) * s;
  const grey: Rgb = [128, 128, 128];
  const randomColour = (): Rgb => [rng.uniform(30, 225), rng.uniform(30, 225), rng.uniform(30, 225)];
  const mix = (a: Rgb, b: Rgb): Rgb => [a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, a[2] + (b[2] - a[2]) * s];
  const lightAngle = rng.uniform(0, 2 * Math.PI);
  const lightTilt = rng.uniform(0, 0.9) * s;
  let occluder: Occluder = { kind: 'none' };
  const occRoll = rng.next();
  if (occRoll < 0.3 * s) {
    const kind = rng.int(3);
    if (kind === 0) occluder = { kind: 'sunglasses', colour: [rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(10, 70)] };
    else if (kind === 1) occluder = { kind: 'mask', colour: randomColour(), top: rng.uniform(4, 14) };
    else occluder = { kind: 'patch', colour: randomColour(), x: rng.uniform(20, 92), y: rng.uniform(25, 100), w: rng.uniform(14, 34), h: rng.uniform(14, 34), angle: rng.uniform(-0.6, 0.6) };
  }
  return {
    tx: u(7),
    ty: u(7),
    rotation: u(0.26),
    scale: 1 + u(0.12),
    yaw: u(0.9),
    light: {
      x: Math.cos(lightAngle) * lightTilt,
      y: Math.sin(lightAngle) * lightTilt,
      z: Math.sqrt(1 - lightTilt * lightTilt),
      ambient: 0.55 + u(0.2),
      diffuse: 0.45 + u(0.2),
    },
    brightness: 1 + u(0.3),
    contrast: 1 + u(0.3),
    tint: [1 + u(0.1), 1 + u(0.1), 1 + u(0.1)],
    bgA: mix(grey, randomColour()),
    bgB: mix(grey, randomColour()),
    bgAngle: rng.uniform(0, 2 * Math.PI),
    bgTexture: { amp: rng.uniform(0, 30) * s, fx: rng.uniform(0.03, 0.25), fy: rng.uniform(0.03, 0.25), phase: rng.uniform(0, 6.28) },
    clothing: mix([90, 90, 100], randomColour()),
    smile: u(0.8) + 0.1 * s,
    mouthOpen: Math.max(0, u(1)),
    eyeOpen: 1 - Math.max(0, u(0.7)),
    browRaise: u(2.5),
    gazeX: u(1.5),
    gazeY: u(0.8),
    occluder,
    noiseSigma: rng.uniform(0, 9) * s,
    blurSigma: rng.chance(0.35 * s) ? rng.uniform(0.4, 1.4) : 0,
  };
}
