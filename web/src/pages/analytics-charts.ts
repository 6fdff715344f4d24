import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip,
  type ChartDataset, type ChartType, type Plugin,
} from 'chart.js';

// Chart.js for the People and Health pages (issue #24), loaded on demand by them (its own bundle, as quality-chart.ts).
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Legend, Tooltip);

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const short = (s: string) => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
export const palette = ['#4c8dff', '#ffb020', '#3ccf7a', '#c77dff', '#ff5a5f', '#2ec4c6', '#f28cbd', '#a0a0a0'];

/** Where a test clicks to pick a name: the canvas's CSS pixels. */
interface Target { name: string; x: number; y: number }

/**
 * Test hook: after each render the canvas says what it drew. `data-drawn` counts renders, `data-rows` is the names
 * in order (one per line), `data-targets` is JSON [{name, x, y}]: where a click picks each name (CSS pixels).
 */
function drawnHook<T extends ChartType>(targets: (chart: Chart<T>) => Target[]): Plugin<T> {
  return {
    id: 'vlDrawn',
    afterRender(chart) {
      const c = chart.canvas, t = targets(chart as Chart<T>);
      c.dataset.rows = t.map(p => p.name).join('\n');
      c.dataset.targets = JSON.stringify(t.map(p => ({ name: p.name, x: Math.round(p.x), y: Math.round(p.y) })));
      c.dataset.drawn = String(Number(c.dataset.drawn ?? 0) + 1);
    },
  };
}

export interface Series {
  label: string;
  data: (number | null)[];
  color: string | string[];
  /** Drawn as points joined by nothing, on the right-hand axis (e.g. a share beside counts). */
  right?: boolean;
  /** With `stacked`: series of the same stack pile up, another stack stands beside them (e.g. missed shapes beside the proposals). */
  stack?: string;
}

export interface BarOptions {
  /** Called with the index of the category clicked (anywhere in its column). */
  onPick?: (index: number) => void;
  horizontal?: boolean;
  stacked?: boolean;
  /** The value axis' title; the right axis (for `right` series) is a share 0–100 %. */
  valueTitle?: string;
  rightTitle?: string;
  legend?: boolean;
}

/** Bars per category (grouped when there are several series), optionally with a share on a right-hand axis. */
export class BarChart {
  private readonly chart: Chart<'bar', (number | null)[], string>;
  private names: string[] = [];

  constructor(canvas: HTMLCanvasElement, private readonly options: BarOptions = {}) {
    const muted = css('--muted') || '#9aa4b2', line = css('--line') || '#2c333d';
    const horizontal = !!options.horizontal;
    const category = horizontal ? 'y' : 'x', value = horizontal ? 'x' : 'y';
    this.chart = new Chart<'bar', (number | null)[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        responsive: true, maintainAspectRatio: false, animation: false,
        color: muted,
        interaction: { mode: 'index', axis: category, intersect: false },
        scales: {
          [category]: { stacked: options.stacked, ticks: { color: muted, autoSkip: false, callback: (_v: unknown, i: number) => short(this.names[i] ?? '') }, grid: { color: line } },
          [value]: {
            stacked: options.stacked, beginAtZero: true, ticks: { color: muted, precision: 0 }, grid: { color: line },
            title: { display: !!options.valueTitle, text: options.valueTitle ?? '', color: muted },
          },
          y2: {
            display: 'auto', position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
            ticks: { color: muted, callback: v => `${v}%` }, title: { display: !!options.rightTitle, text: options.rightTitle ?? '', color: muted },
          },
        },
        plugins: {
          legend: { display: options.legend ?? true, labels: { color: muted, boxWidth: 12 } },
          tooltip: { callbacks: { title: items => this.names[items[0]?.dataIndex ?? 0] ?? '' } },
        },
        onClick: (_e, elements) => { if (elements.length && this.options.onPick) this.options.onPick(elements[0].index); },
        onHover: (e, elements) => {
          (e.native?.target as HTMLElement | undefined)?.style.setProperty('cursor', elements.length && this.options.onPick ? 'pointer' : 'default');
        },
      },
      plugins: [drawnHook<'bar'>(chart => {
        const axis = chart.scales[category], area = chart.chartArea;
        if (!axis || !area) return [];
        return this.names.map((name, i) => horizontal
          ? { name, x: (area.left + area.right) / 2, y: axis.getPixelForValue(i) }
          : { name, x: axis.getPixelForValue(i), y: (area.top + area.bottom) / 2 });
      })],
    });
  }

  show(names: readonly string[], series: readonly Series[]): void {
    this.names = [...names];
    this.chart.data.labels = this.names;
    this.chart.data.datasets = series.map(s => s.right
      ? {
        type: 'line', label: s.label, data: s.data.map(v => (v == null ? null : v * 100)), yAxisID: 'y2', showLine: false,
        pointRadius: 6, pointHoverRadius: 8, pointBorderColor: '#111418', pointBorderWidth: 2, borderColor: s.color, backgroundColor: s.color,
        order: 0, // drawn over the bars
      } as unknown as ChartDataset<'bar', (number | null)[]>
      : { label: s.label, data: s.data, backgroundColor: s.color, borderWidth: 0, maxBarThickness: 48, minBarLength: 2, order: 1, ...(s.stack ? { stack: s.stack } : {}) });
    this.chart.update();
  }

  destroy(): void { this.chart.destroy(); }
}

export interface Point { name: string; x: number; y: number }

/** One point per name, its name written beside it; a click on a point picks it. */
export class ScatterChart {
  private readonly chart: Chart<'scatter', Point[]>;
  private points: Point[] = [];

  constructor(canvas: HTMLCanvasElement, axes: { x: string; y: string; yMax?: number }, onPick: (name: string) => void) {
    const muted = css('--muted') || '#9aa4b2', line = css('--line') || '#2c333d', text = css('--text') || '#e6e9ee';
    const names: Plugin<'scatter'> = {
      id: 'vlNames',
      afterDatasetsDraw(chart) {
        const ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = text;
        ctx.font = '12px system-ui, sans-serif';
        chart.getDatasetMeta(0).data.forEach((el, i) => {
          const p = (chart.data.datasets[0].data as Point[])[i];
          if (p) ctx.fillText(short(p.name), el.x + 8, el.y - 6);
        });
        ctx.restore();
      },
    };
    this.chart = new Chart<'scatter', Point[]>(canvas, {
      type: 'scatter',
      data: { datasets: [] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        color: muted,
        layout: { padding: { top: 14, right: 28 } }, // room for the names of points at the top and right
        interaction: { mode: 'nearest', intersect: true },
        scales: {
          x: { beginAtZero: true, grace: '10%', ticks: { color: muted }, grid: { color: line }, title: { display: true, text: axes.x, color: muted } },
          y: { min: 0, max: axes.yMax, ticks: { color: muted }, grid: { color: line }, title: { display: true, text: axes.y, color: muted } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: item => { const p = item.raw as Point; return `${p.name}: ${p.x.toFixed(0)} per hour, F1 ${p.y.toFixed(3)}`; } } },
        },
        onClick: (_e, elements) => { const p = elements.length ? this.points[elements[0].index] : undefined; if (p) onPick(p.name); },
        onHover: (e, elements) => { (e.native?.target as HTMLElement | undefined)?.style.setProperty('cursor', elements.length ? 'pointer' : 'default'); },
      },
      plugins: [names, drawnHook<'scatter'>(chart => chart.getDatasetMeta(0).data.map((el, i) => ({ name: this.points[i]?.name ?? '', x: el.x, y: el.y })))],
    });
  }

  show(points: readonly Point[]): void {
    this.points = [...points];
    this.chart.data.datasets = [{ label: 'people', data: this.points, pointRadius: 6, pointHoverRadius: 8, backgroundColor: palette[0], borderColor: palette[0] }];
    this.chart.update();
  }

  destroy(): void { this.chart.destroy(); }
}
