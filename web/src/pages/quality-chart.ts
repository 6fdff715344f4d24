import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartDataset, type Plugin,
} from 'chart.js';

// Chart.js, registered piece by piece (only what the quality chart draws ends up in its bundle). This module is
// loaded by the quality page on demand, so other pages never download it.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

/** One group of bars: a row of the report. */
export interface ChartRow {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** The F1 its label requires (label rows), drawn as a red dash; null: none. */
  required: number | null;
}

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const colors = { precision: '#4c8dff', recall: '#ffb020', f1: '#3ccf7a', below: '#ff5a5f' };
const short = (s: string) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);

/**
 * Test hook: the canvas says what it last drew. `data-bars` is the number of groups, `data-drawn` counts renders
 * (a test waits for it to move after new figures), `data-rows` is the groups' names in order.
 */
const drawnHook: Plugin<'bar'> = {
  id: 'vlDrawn',
  afterRender(chart) {
    const c = chart.canvas, labels = (chart.data.labels ?? []) as string[];
    c.dataset.bars = String(labels.length);
    c.dataset.rows = labels.join('\n');
    c.dataset.drawn = String(Number(c.dataset.drawn ?? 0) + 1);
  },
};

/** Grouped bars of precision, recall and F1 per row (0..1); a click on a group reports its index. */
export class QualityChart {
  private readonly chart: Chart<'bar', (number | null)[], string>;
  private names: string[] = [];

  constructor(canvas: HTMLCanvasElement, onPick: (index: number) => void) {
    const muted = css('--muted') || '#9aa4b2', line = css('--line') || '#2c333d';
    this.chart = new Chart<'bar', (number | null)[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        color: muted,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { ticks: { color: muted, callback: (_v, i) => short(this.names[i] ?? '') }, grid: { color: line } },
          y: { min: 0, max: 1, ticks: { color: muted, stepSize: 0.2 }, grid: { color: line } },
        },
        plugins: {
          legend: { labels: { color: muted, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              title: items => this.names[items[0]?.dataIndex ?? 0] ?? '',
              label: item => item.raw == null ? '' : `${item.dataset.label}: ${(item.raw as number).toFixed(3)}`,
            },
          },
        },
        onClick: (_e, elements) => { if (elements.length) onPick(elements[0].index); },
        onHover: (e, elements) => { (e.native?.target as HTMLElement | undefined)?.style.setProperty('cursor', elements.length ? 'pointer' : 'default'); },
      },
      plugins: [drawnHook],
    });
  }

  show(rows: readonly ChartRow[]): void {
    this.names = rows.map(r => r.label);
    const bars = (label: string, values: number[], color: string | string[]): ChartDataset<'bar', (number | null)[]> =>
      // minBarLength: a 0 still shows, as a sliver on the axis.
      ({ label, data: values, backgroundColor: color, borderWidth: 0, barPercentage: 0.9, categoryPercentage: 0.8, maxBarThickness: 56, minBarLength: 2 });
    const datasets: ChartDataset<'bar', (number | null)[]>[] = [
      bars('precision', rows.map(r => r.precision), colors.precision),
      bars('recall', rows.map(r => r.recall), colors.recall),
      // An F1 under its label's requirement is red.
      bars('F1', rows.map(r => r.f1), rows.map(r => (r.required != null && r.f1 < r.required ? colors.below : colors.f1))),
    ];
    if (rows.some(r => r.required != null)) {
      // A red dash across the group at the required F1 (a line dataset without its line).
      datasets.push({
        type: 'line', label: 'required F1', data: rows.map(r => r.required), showLine: false,
        pointStyle: 'line', pointRadius: 22, pointHoverRadius: 22, pointBorderWidth: 3, borderColor: colors.below, backgroundColor: colors.below,
      } as unknown as ChartDataset<'bar', (number | null)[]>);
    }
    this.chart.data.labels = this.names;
    this.chart.data.datasets = datasets;
    this.chart.update();
  }

  destroy(): void { this.chart.destroy(); }
}
