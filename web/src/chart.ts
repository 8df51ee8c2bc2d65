// One quantity of one device over time with uPlot: the mean of each bucket as a line, its minimum
// and maximum as a band. Buckets without readings are gaps (the API leaves them out; they are
// filled with nulls here so the line breaks instead of bridging an outage).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { isolatedPoints } from './chart_points';
import { h, replace } from './dom';
import type { Series } from './types';

export interface ChartLook {
  title: string;
  color: string; // the mean's line
  band: string; // the min..max band
  decimals: number;
}

const HEIGHT = 240;

// x (Unix seconds) and min/mean/max per bucket, every bucket of [from, to) at step, nulls where
// the series has none.
export function chartData(series: Series): uPlot.AlignedData {
  const step = series.step_ms;
  const x: number[] = [];
  const min: (number | null)[] = [];
  const mean: (number | null)[] = [];
  const max: (number | null)[] = [];
  const byStart = new Map(series.buckets.map((b) => [b.start_ms, b]));
  if (step > 0 && Number.isFinite(series.from_ms) && series.to_ms > series.from_ms) {
    const first = Math.floor(series.from_ms / step) * step;
    for (let t = first; t < series.to_ms && x.length < 20_000; t += step) {
      const bucket = byStart.get(t);
      x.push(t / 1000);
      min.push(bucket ? bucket.min : null);
      mean.push(bucket ? bucket.mean : null);
      max.push(bucket ? bucket.max : null);
    }
  }
  return [x, min, mean, max];
}

export class TimeChart {
  readonly element: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly note: HTMLElement;
  private plot: uPlot | null = null;
  private readonly resize: ResizeObserver;

  constructor(private readonly look: ChartLook, testId: string) {
    this.plotBox = h('div', { class: 'plot' });
    this.note = h('p', { class: 'chart-note', hidden: true });
    this.element = h('figure', { class: 'chart', 'data-testid': testId },
      h('figcaption', {}, look.title), this.plotBox, this.note);
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
    });
    this.resize.observe(this.plotBox);
  }

  private width(): number {
    return Math.max(this.plotBox.clientWidth, 280);
  }

  show(series: Series): void {
    const data = chartData(series);
    const hasReadings = series.buckets.length > 0;
    this.note.hidden = hasReadings;
    if (!hasReadings) replace(this.note, 'No readings in this range.');
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const decimals = this.look.decimals;
    const unit = series.unit;
    const options: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true } },
      series: [
        {},
        { label: 'min', stroke: this.look.band, width: 1, value: (_u, v) => (v == null ? '–' : v.toFixed(decimals)) },
        {
          label: `mean (${unit})`,
          stroke: this.look.color,
          width: 2,
          value: (_u, v) => (v == null ? '–' : v.toFixed(decimals)),
          // Every point where uPlot shows them; else the lone ones, which no line would show.
          points: {
            filter: (u, seriesIndex, show) => {
              if (show) return null;
              const lone = isolatedPoints(u.data[seriesIndex] as (number | null)[]);
              return lone.length ? lone : null;
            },
          },
        },
        { label: 'max', stroke: this.look.band, width: 1, value: (_u, v) => (v == null ? '–' : v.toFixed(decimals)) },
      ],
      bands: [{ series: [3, 1], fill: this.look.band }],
      axes: [{}, { label: unit, size: 60, values: (_u, splits) => splits.map((v) => v.toFixed(decimals)) }],
    };
    this.plot = new uPlot(options, data, this.plotBox);
  }

  dispose(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
