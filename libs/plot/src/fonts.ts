import { existsSync, readdirSync } from 'node:fs';

/** What resvg is given to draw text with. */
export interface ChartFonts {
  /** Font folders handed to resvg (the first existing candidates). */
  dirs: string[];
  /** Family used for the generic `sans-serif` that Vega writes into the SVG. */
  family: string | undefined;
  /** True when no known folder was found and resvg falls back to scanning the system's font folders. */
  systemFallback: boolean;
}

// Vega writes font-family="sans-serif"; resvg has no built-in font, so text is drawn only if a font file is
// loaded. DejaVu ships with most Linux distributions (and on this project's CI image); the others cover macOS,
// Windows and other Linux font packages. FACET_FONT_DIR takes precedence.
const CANDIDATES: Array<{ dir: string; family: string }> = [
  { dir: '/usr/share/fonts/truetype/dejavu', family: 'DejaVu Sans' },
  { dir: '/usr/share/fonts/dejavu', family: 'DejaVu Sans' },
  { dir: '/usr/share/fonts/TTF', family: 'DejaVu Sans' },
  { dir: '/usr/share/fonts/truetype/liberation', family: 'Liberation Sans' },
  { dir: '/usr/share/fonts/liberation-sans', family: 'Liberation Sans' },
  { dir: '/System/Library/Fonts/Supplemental', family: 'Arial' },
  { dir: 'C:\\Windows\\Fonts', family: 'Arial' },
];

let cached: ChartFonts | undefined;
let warned = false;

function hasFontFiles(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => /\.(ttf|otf|ttc)$/i.test(f));
  } catch {
    return false;
  }
}

/** The fonts charts are rasterised with (found once, then cached). */
export function chartFonts(): ChartFonts {
  if (cached) return cached;
  const override = process.env.FACET_FONT_DIR;
  if (override) {
    if (!existsSync(override) || !hasFontFiles(override)) {
      throw new Error(`FACET_FONT_DIR=${override} holds no .ttf/.otf/.ttc font; point it at a folder of font files or unset it.`);
    }
    cached = { dirs: [override], family: undefined, systemFallback: false };
    return cached;
  }
  const found = CANDIDATES.find((c) => hasFontFiles(c.dir));
  cached = found
    ? { dirs: [found.dir], family: found.family, systemFallback: false }
    : { dirs: [], family: undefined, systemFallback: true };
  return cached;
}

/** Warn once (not per chart) when PNG text may be missing; the SVG always carries its text. */
export function warnIfNoFonts(fonts: ChartFonts): void {
  if (!fonts.systemFallback || warned) return;
  warned = true;
  process.emitWarning(
    'no DejaVu/Liberation/Arial font folder found; PNG charts use whatever system fonts resvg finds and may have no ' +
      'text. Install fonts-dejavu or set FACET_FONT_DIR to a folder of .ttf files (SVG charts are unaffected).',
    { code: 'FACET_NO_FONTS' },
  );
}

/** Forget the cached choice (tests change FACET_FONT_DIR). */
export function resetChartFonts(): void {
  cached = undefined;
  warned = false;
}
