// A device's recent trend as a small line in the fleet table: the hourly means of
// GET /api/v1/fleet/series drawn as one SVG path. The geometry (sparklineShape) is apart from the
// DOM so it can be tested on its own (test/model.test.mjs).
//
// An hour without readings breaks the line; an hour with readings on neither side of it shows as
// a dot (a zero-length segment with round caps, styles.css). The vertical scale is the device's
// own minimum to maximum over the range, so a flat line means steady, not a particular value; the
// figures are in the element's label.

const SVG = 'http://www.w3.org/2000/svg';

// The drawing's size in its own units; CSS scales it to the cell (preserveAspectRatio none).
export const SPARKLINE_WIDTH = 100;
export const SPARKLINE_HEIGHT = 24;
// Room left at the top and bottom so the stroke is not clipped at the extremes.
const PADDING = 3;

export interface SparklineShape {
  path: string; // SVG path data in a SPARKLINE_WIDTH x SPARKLINE_HEIGHT box
  min: number;
  max: number;
  last: number; // the latest hour's mean
  hours: number; // how many hours have a mean
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

// The shape of `means` (oldest first, null for an hour without readings), or null when no hour
// has a finite mean.
export function sparklineShape(means: readonly (number | null)[]): SparklineShape | null {
  const values = means.map((mean) => (typeof mean === 'number' && Number.isFinite(mean) ? mean : null));
  const present = values.filter((value): value is number => value !== null);
  if (present.length === 0) return null;
  const min = Math.min(...present);
  const max = Math.max(...present);
  const span = max - min;
  const x = (i: number) => (values.length === 1 ? SPARKLINE_WIDTH / 2 : (i / (values.length - 1)) * SPARKLINE_WIDTH);
  const y = (value: number) =>
    span === 0
      ? SPARKLINE_HEIGHT / 2
      : PADDING + (1 - (value - min) / span) * (SPARKLINE_HEIGHT - 2 * PADDING);
  const parts: string[] = [];
  values.forEach((value, i) => {
    if (value === null) return;
    const joined = i > 0 && values[i - 1] !== null;
    const point = `${round(x(i))} ${round(y(value))}`;
    parts.push(joined ? `L${point}` : `M${point}`);
    // Alone between gaps: a dot.
    if (!joined && (i === values.length - 1 || values[i + 1] === null)) parts.push('h0');
  });
  return { path: parts.join(''), min, max, last: present[present.length - 1], hours: present.length };
}

// The SVG of a sparkline, labelled for screen readers with `describe(shape)`.
export function sparklineSvg(shape: SparklineShape, label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${SPARKLINE_WIDTH} ${SPARKLINE_HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const line = document.createElementNS(SVG, 'path');
  line.setAttribute('d', shape.path);
  // Keeps the stroke's width in screen pixels although the drawing is stretched.
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(line);
  return svg;
}
