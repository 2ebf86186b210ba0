// Rasteriser for synthetic faces: plain typed-array drawing, no canvas. Every output pixel is mapped back through
// the image's pose (rotation, scale, shift) into a 112-unit canonical face frame, where layers are composited back
// to front with anti-aliased coverage (signed-distance approximations): background, clothing, neck, long hair,
// ears, face, beard, nose, mouth, eyes, brows, moles, front hair, glasses, occluder. Then global light, blur, noise.

import { gaussianBlurFloat } from '../image/blur.js';
import { makeRng, mixSeed } from '../rng.js';
import { drawIdentity, drawNuisance, type FaceIdentity, type FaceNuisance, type Rgb } from './face-params.js';

export interface RenderFaceOptions {
  /** Seed of the synthetic world (identities and nuisances both derive from it). Default 0. */
  seed?: number;
  /** Output side in pixels (default 112); geometry scales with it. */
  imageSize?: number;
  /** Nuisance strength in [0, 1] (default 1). */
  nuisance?: number;
}

const MOLE: Rgb = [70, 45, 35];
const MOUTH_INSIDE: Rgb = [55, 18, 22];
const TEETH: Rgb = [225, 220, 205];
const EYE_WHITE: Rgb = [238, 236, 230];
const PUPIL: Rgb = [15, 12, 12];
const LID: Rgb = [35, 25, 25];

const clamp01 = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x);

/** Approximate signed distance to an axis-aligned ellipse (negative inside), in canonical units. */
function ellipseDist(u: number, v: number, rx: number, ry: number): number {
  return (Math.sqrt((u * u) / (rx * rx) + (v * v) / (ry * ry)) - 1) * Math.min(rx, ry);
}

/** Deterministic value noise in [0, 1) on a canonical grid cell (beard texture). */
function cellNoise(u: number, v: number): number {
  const h = Math.sin(Math.floor(u * 2.2) * 12.9898 + Math.floor(v * 2.2) * 78.233) * 43758.5453;
  return h - Math.floor(h);
}

/** Draw identity `identity`, image `variant` (deterministic in (seed, identity, variant, imageSize, nuisance)). */
export function renderSyntheticFace(identity: number, variant: number, opts: RenderFaceOptions = {}): Uint8Array {
  const seed = opts.seed ?? 0;
  const size = opts.imageSize ?? 112;
  const strength = opts.nuisance ?? 1;
  if (!Number.isInteger(identity) || identity < 0) throw new Error(`renderSyntheticFace: identity must be a non-negative integer, got ${identity}`);
  if (!Number.isInteger(variant) || variant < 0) throw new Error(`renderSyntheticFace: variant must be a non-negative integer, got ${variant}`);
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new Error(`renderSyntheticFace: imageSize must be an integer in [8, 1024], got ${size}`);
  if (!(strength >= 0 && strength <= 1)) throw new Error(`renderSyntheticFace: nuisance must be in [0, 1], got ${strength}`);
  const id = drawIdentity(seed, identity);
  const nz = drawNuisance(seed, identity, variant, strength);
  return rasterise(id, nz, size, mixSeed(seed, 0x3f5c, identity, variant));
}

function rasterise(id: FaceIdentity, nz: FaceNuisance, size: number, noiseSeed: number): Uint8Array {
  const k = 112 / size;
  const img = new Float32Array(size * size * 3);
  const cosT = Math.cos(nz.rotation);
  const sinT = Math.sin(nz.rotation);
  const cx = 56 + nz.tx;
  const cy = 58 + nz.ty;
  const aa = k / nz.scale; // one output pixel in canonical units
  const cov = (d: number) => clamp01(0.5 - d / aa);
  const { faceRx: rx, faceRy: ry } = id;
  const yaw = nz.yaw;
  const outlineShift = yaw * 1.5;
  const featShift = yaw * 5;
  const bgc = Math.cos(nz.bgAngle);
  const bgs = Math.sin(nz.bgAngle);
  const lx = nz.light.x;
  const ly = nz.light.y;
  const lz = nz.light.z;
  const lightNorm = nz.light.ambient + nz.light.diffuse * lz; // frontal point under this light ⇒ factor 1
  const eyeRyOpen = id.eyeRy * nz.eyeOpen + 0.05;
  const noseTop = id.eyeY + 2;
  const noseBottom = noseTop + id.noseLen;
  const noseShadowSide = lx >= 0 ? -1 : 1;
  const noseShadow = 0.1 + 0.3 * Math.abs(lx);
  const mouthOpenH = nz.mouthOpen * 4;
  const volume = id.hairVolume;
  const capRx = rx + volume;
  const capRy = ry * 0.95 + volume;
  const hairBack: Rgb = [id.hair[0] * 0.8, id.hair[1] * 0.8, id.hair[2] * 0.8];
  const brow: Rgb = [id.hair[0] * 0.75, id.hair[1] * 0.75, id.hair[2] * 0.75];
  const ears = id.earSize;
  const occ = nz.occluder;
  const patchCos = occ.kind === 'patch' ? Math.cos(occ.angle) : 1;
  const patchSin = occ.kind === 'patch' ? Math.sin(occ.angle) : 0;

  // the background texture is separable: precompute its row and column factors
  const texX = new Float64Array(size);
  const texY = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    texX[i] = nz.bgTexture.amp * Math.sin(nz.bgTexture.fx * (i + 0.5) * k + nz.bgTexture.phase);
    texY[i] = Math.sin(nz.bgTexture.fy * (i + 0.5) * k);
  }

  let r = 0;
  let g = 0;
  let b = 0;
  const paint = (c: Rgb, a: number, shade = 1) => {
    if (a <= 0) return;
    r += (c[0] * shade - r) * a;
    g += (c[1] * shade - g) * a;
    b += (c[2] * shade - b) * a;
  };
  const darken = (f: number, a: number) => {
    if (a <= 0) return;
    const m = 1 - f * a;
    r *= m;
    g *= m;
    b *= m;
  };

  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = (x + 0.5) * k;
      const py = (y + 0.5) * k;
      // background: two-colour gradient plus a low-frequency texture
      const t = clamp01(((px - 56) * bgc + (py - 56) * bgs) / 112 + 0.5);
      const tex = texX[x]! * texY[y]!;
      r = nz.bgA[0] + (nz.bgB[0] - nz.bgA[0]) * t + tex;
      g = nz.bgA[1] + (nz.bgB[1] - nz.bgA[1]) * t + tex;
      b = nz.bgA[2] + (nz.bgB[2] - nz.bgA[2]) * t + tex;

      const dx = px - cx;
      const dy = py - cy;
      const u = (cosT * dx + sinT * dy) / nz.scale;
      const v = (-sinT * dx + cosT * dy) / nz.scale;
      const uo = u - outlineShift;
      const uf = u - featShift;

      // light factor from the normal of the head ellipsoid (clamped outside it)
      const nx0 = uo / (rx + 4);
      const ny0 = v / (ry + 4);
      const q = nx0 * nx0 + ny0 * ny0;
      const nxs = q > 0.97 ? nx0 / Math.sqrt(q / 0.97) : nx0;
      const nys = q > 0.97 ? ny0 / Math.sqrt(q / 0.97) : ny0;
      const nzs = Math.sqrt(Math.max(0.03, 1 - nxs * nxs - nys * nys));
      const lam = (nz.light.ambient + nz.light.diffuse * Math.max(0, nxs * lx + nys * ly + nzs * lz)) / lightNorm;

      // neck, then clothing over the neck's lower end
      if (v > 0) {
        const neckD = Math.max(Math.abs(uo) - rx * 0.46, -(v - 4));
        paint(id.skin, cov(neckD), 0.78 * lam);
        if (v > ry) paint(nz.clothing, cov(ellipseDist(uo, v - (ry + 40), 62, 30)), lam);
      }
      // everything else of the head lies inside this ellipse
      const inHead = (uo * uo) / ((capRx + 8) * (capRx + 8)) + (v * v) / ((ry + volume + 8) * (ry + volume + 8)) < 1;

      // long hair behind the head
      if (inHead && id.hairStyle === 1) {
        const d = Math.max(ellipseDist(uo, v + ry * 0.05, capRx + 3, ry + volume), v - ry * 0.95);
        paint(hairBack, cov(d), lam);
      }

      // ears; the one on the far side of a head turn shrinks
      for (let side = -1; inHead && side <= 1; side += 2) {
        const far = side * yaw > 0 ? 1 - 0.6 * Math.abs(yaw) : 1;
        const d = ellipseDist(uo - side * rx * 0.96, v - id.earY, 4 * ears * far, 7.5 * ears);
        paint(id.skin, cov(d), 0.88 * lam);
      }

      // face: ellipse whose lower half tapers to the chin; the far side narrows with yaw
      const vn = v / ry;
      const hw = rx * (v > 0 ? 1 - id.jaw * vn * vn : 1) * (uo * yaw > 0 ? 1 - 0.12 * Math.abs(yaw) : 1);
      const faceD = inHead ? ellipseDist(uo, v, hw, ry) : 1e9;
      const faceA = cov(faceD);
      if (faceA > 0) {
        const fr = r;
        const fg = g;
        const fb = b;
        r = id.skin[0] * lam;
        g = id.skin[1] * lam;
        b = id.skin[2] * lam;

        // moles
        for (const m of id.moles) paint(MOLE, cov(ellipseDist(uf - m.u, v - m.v, m.r, m.r)), lam);

        // mouth: lips around a centre line that bends up at the corners when smiling
        const mu = uf / id.mouthW;
        const mouthUD = Math.abs(uf) - id.mouthW;
        const vc = id.mouthY - nz.smile * 3.5 * mu * mu;
        const lipW = Math.sqrt(Math.max(0, 1 - mu * mu));
        const upperTop = vc - mouthOpenH / 2 - id.lipThick * 0.9 * lipW - 0.3;
        const lowerBot = vc + mouthOpenH / 2 + id.lipThick * 1.1 * lipW + 0.3;

        // beard and moustache (hair-coloured, textured)
        if (id.beard > 0) {
          const jawBand = Math.max(-(v - (id.mouthY - id.lipThick - 4)), faceD + 0.5);
          const side = Math.max(-(Math.abs(uf) - hw * 0.62), -(v - (noseTop + id.noseLen * 0.5)), faceD + 0.5);
          const d = Math.min(jawBand, side);
          paint(id.hair, cov(d) * id.beard * (0.55 + 0.45 * cellNoise(uf, v)), lam);
        }
        if (id.moustache) {
          const d = Math.max(Math.abs(uf) - id.mouthW * 1.05, Math.abs(v - (upperTop - 1.8)) - 1.6);
          paint(id.hair, cov(d) * 0.85, lam);
        }

        // nose: shadow on the side away from the light, darker base, nostrils
        if (v > noseTop - 1 && v < noseBottom + 3) {
          const tn = clamp01((v - noseTop) / id.noseLen);
          const w = id.noseW * (0.3 + 0.7 * tn * tn);
          const side = uf * noseShadowSide;
          const d = Math.max(Math.abs(side - w * 0.65) - w * 0.35, -(v - noseTop), v - noseBottom);
          darken(noseShadow, cov(d));
          darken(0.12, cov(ellipseDist(uf, v - (noseBottom - 0.5), id.noseW, 2.6)));
          for (let s = -1; s <= 1; s += 2) darken(0.55, cov(ellipseDist(uf - s * id.noseW * 0.45, v - noseBottom, 1.7, 1.0)));
        }

        if (mouthUD < 1 && v > upperTop - 2 && v < lowerBot + 2) {
          const lipD = Math.max(mouthUD, upperTop - v, v - lowerBot);
          paint(id.lip, cov(lipD), lam);
          if (mouthOpenH > 0.3) {
            const inD = Math.max(mouthUD + 1.5, vc - mouthOpenH / 2 - v, v - (vc + mouthOpenH / 2));
            paint(MOUTH_INSIDE, cov(inD));
            paint(TEETH, cov(Math.max(inD, v - (vc - mouthOpenH / 2 + 1.2))));
          } else {
            darken(0.45, cov(Math.abs(v - vc) - 0.35) * (mouthUD < 0 ? 1 : 0));
          }
        }

        // eyes: white, iris (clipped to the white), pupil, lid line
        for (let s = -1; s <= 1; s += 2) {
          const eu = uf - s * id.eyeDx;
          const ev = v - id.eyeY;
          if (Math.abs(eu) > id.eyeRx + 6 || Math.abs(ev) > id.eyeRy + 14) continue;
          const whiteD = ellipseDist(eu, ev, id.eyeRx, eyeRyOpen);
          const whiteA = cov(whiteD);
          darken(0.25, cov(ellipseDist(eu, ev + 0.6, id.eyeRx + 1.6, id.eyeRy + 1.8))); // socket shadow
          paint(EYE_WHITE, whiteA, lam);
          const irisD = Math.max(ellipseDist(eu - nz.gazeX, ev - nz.gazeY, id.irisR, id.irisR), whiteD);
          paint(id.iris, cov(irisD), lam);
          paint(PUPIL, cov(Math.max(ellipseDist(eu - nz.gazeX, ev - nz.gazeY, id.irisR * 0.45, id.irisR * 0.45), whiteD)));
          const lidD = Math.max(Math.abs(whiteD) - 0.55, ev);
          paint(LID, cov(lidD));
          // brow above, tilted and arched, raised by expression
          const bu0 = eu;
          const bv0 = v - (id.eyeY - id.eyeRy - id.browGap - nz.browRaise);
          const tilt = s * id.browTilt;
          const bu = bu0 * Math.cos(tilt) + bv0 * Math.sin(tilt);
          const bv = -bu0 * Math.sin(tilt) + bv0 * Math.cos(tilt) + id.browArch * bu * bu;
          paint(brow, cov(ellipseDist(bu, bv, id.browLen, id.browThick)), lam);
          if (id.glasses) {
            const ringD = Math.abs(ellipseDist(eu, ev + 0.5, id.eyeRx + 3.5, id.eyeRy + 4)) - 0.55;
            paint(id.glassesTint, cov(ringD));
          }
        }
        if (id.glasses) {
          const d = Math.max(Math.abs(uf) - (id.eyeDx - id.eyeRx - 3.4), Math.abs(v - (id.eyeY - 1)) - 0.6);
          paint(id.glassesTint, cov(d));
        }

        // blend the face layer over what was behind it
        r = fr + (r - fr) * faceA;
        g = fg + (g - fg) * faceA;
        b = fb + (b - fb) * faceA;
      }

      // front hair: a cap above a hairline that drops toward the temples (and the sides, for long hair)
      if (inHead) {
        const an = Math.min(1, Math.abs(uo) / rx);
        let hl = id.hairline + ry * (id.hairStyle === 1 ? 0.9 : 0.5) * an * an * an;
        if (id.hairStyle === 3) hl += 2.2 * Math.sin(uo * 0.9 + id.parting * 3);
        if (id.hairStyle === 2) hl -= 4 * (1 - an);
        hl -= 3 * Math.exp(-(((uo - id.parting * rx * 0.5) / 1.8) ** 2));
        const capD = ellipseDist(uo, v + ry * 0.15, capRx, capRy);
        const hairA = cov(Math.max(capD, v - hl));
        if (hairA > 0) paint(id.hair, hairA, lam * (0.9 + 0.1 * cellNoise(uo * 2, v * 0.5)));
      }

      // occluders
      if (occ.kind === 'sunglasses') {
        let d = Math.max(Math.abs(uf) - id.eyeDx, Math.abs(v - id.eyeY) - 0.9);
        for (let s = -1; s <= 1; s += 2) d = Math.min(d, ellipseDist(uf - s * id.eyeDx, v - id.eyeY, id.eyeRx + 4.5, id.eyeRy + 4.5));
        paint(occ.colour, cov(d));
      } else if (occ.kind === 'mask') {
        const d = Math.max(-(v - (id.eyeY + occ.top)), Math.abs(uo) - hw - 2, v - ry - 3);
        paint(occ.colour, cov(d), lam);
      } else if (occ.kind === 'patch') {
        const ox = px - occ.x;
        const oy = py - occ.y;
        const pu = ox * patchCos + oy * patchSin;
        const pv = -ox * patchSin + oy * patchCos;
        const d = Math.max(Math.abs(pu) - occ.w / 2, Math.abs(pv) - occ.h / 2) / k;
        paint(occ.colour, clamp01(0.5 - d));
      }

      const o = (y * size + x) * 3;
      img[o] = r;
      img[o + 1] = g;
      img[o + 2] = b;
    }
  }

  // camera: exposure / contrast / white balance, optics blur, sensor noise
  for (let i = 0; i < img.length; i++) {
    const c = i % 3;
    img[i] = ((img[i]! - 128) * nz.contrast + 128) * nz.brightness * nz.tint[c]!;
  }
  if (nz.blurSigma > 0) gaussianBlurFloat(img, size, size, nz.blurSigma / k);
  const out = new Uint8Array(img.length);
  if (nz.noiseSigma > 0) {
    // Box–Muller, both outputs used
    const rng = makeRng(noiseSeed);
    for (let i = 0; i < img.length; i += 2) {
      const u1 = (rng.uint32() + 1) / 4294967297;
      const u2 = rng.uint32() / 4294967296;
      const rad = nz.noiseSigma * Math.sqrt(-2 * Math.log(u1));
      img[i] = img[i]! + rad * Math.cos(2 * Math.PI * u2);
      if (i + 1 < img.length) img[i + 1] = img[i + 1]! + rad * Math.sin(2 * Math.PI * u2);
    }
  }
  for (let i = 0; i < img.length; i++) {
    const val = img[i]!;
    out[i] = val <= 0 ? 0 : val >= 255 ? 255 : Math.round(val);
  }
  return out;
}
